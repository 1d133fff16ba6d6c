"""The passkey endpoints the pages' script (static/passkey.js) calls: options, then the
browser's answer. Every call carries the form's CSRF token; answers are JSON for the script,
while the pages keep working without it (authenticator app and password)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from gateway.identity import accounts, passkeys
from gateway.identity.gate import Identity
from gateway.identity.sessions import COOKIE, PRE_COOKIE
from gateway.models import AuditEntry
from services.common.audit import audit

log = logging.getLogger("gateway.identity")
FAILED = {"error": "Your passkey could not be used. Try again, or use your authenticator app "
                   "and password."}


def add_routes(app: FastAPI, identity: Identity, safe_next: Any) -> None:
    challenges = passkeys.Challenges(identity.settings.internal_secret)
    rp = passkeys.RelyingParty.of(identity.settings.public_base_url)

    def csrf_ok(request: Request, token: Any) -> bool:
        return identity.csrf.valid(request.cookies.get(PRE_COOKIE), str(token or ""))

    def options_answer(options: str, cookie: str) -> Response:
        resp = Response(options, media_type="application/json")
        identity.set_cookie(resp, passkeys.COOKIE, cookie, max_age=300)
        return resp

    def refused(status: int = 400) -> JSONResponse:
        return JSONResponse(FAILED, status_code=status)

    @app.post("/desk/invite/{token}/passkey/options")
    async def registration_options(request: Request, token: str) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return refused(403)
        found = await identity.invitation(token)
        if found is None:
            return refused(404)
        _, account = found
        async with identity.db.sessionmaker() as session:
            existing = await passkeys.passkeys_of(session, account.id)
        challenge, cookie = challenges.issue(f"reg-{accounts.token_hash(token)[:16]}",
                                             await identity.now())
        return options_answer(passkeys.registration_options(rp, account, challenge, existing),
                              cookie)

    @app.post("/desk/invite/{token}/passkey")
    async def register(request: Request, token: str) -> Response:
        try:
            data, credential = passkeys.parse(await request.body())
            if not csrf_ok(request, data.get("csrf_token")):
                return refused(403)
            now = await identity.now()
            challenge = challenges.take(request.cookies.get(passkeys.COOKIE),
                                        f"reg-{accounts.token_hash(token)[:16]}", now)
            async with identity.db.sessionmaker() as session, session.begin():
                found = await accounts.open_invitation(session, token, now)
                if found is None:
                    return refused(404)
                inv, account = found
                passkeys.register(session, rp, account, credential, challenge, now)
                inv.used_at = now
                account.enrolled_at = account.enrolled_at or now
                audit(session, AuditEntry, identity.actor_of(account), "enrol_passkey",
                      "staff_account", account.id, now)
                session_token = identity.start_session(session, account, "passkey", now)
        except passkeys.PasskeyError as exc:
            log.warning("passkey registration refused", extra={
                "event": "identity.passkey_refused", "error": str(exc)})
            return refused()
        resp = JSONResponse({"redirect": "/desk/"})
        identity.set_cookie(resp, COOKIE, session_token)
        resp.delete_cookie(passkeys.COOKIE, path="/desk")
        return resp

    @app.post("/desk/sign-in/passkey/options")
    async def authentication_options(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return refused(403)
        challenge, cookie = challenges.issue("auth", await identity.now())
        return options_answer(passkeys.authentication_options(rp, challenge), cookie)

    @app.post("/desk/sign-in/passkey")
    async def sign_in(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            data, credential = passkeys.parse(await request.body())
            if not csrf_ok(request, data.get("csrf_token")):
                return refused(403)
            now = await identity.now()
            challenge = challenges.take(request.cookies.get(passkeys.COOKIE), "auth", now)
        except passkeys.PasskeyError:
            return refused()
        token = await identity.passkey_sign_in(rp, credential, challenge, address)
        if token is None:
            return refused(401)
        resp = JSONResponse({"redirect": safe_next(str(data.get("next") or ""))})
        identity.set_cookie(resp, COOKIE, token)
        resp.delete_cookie(passkeys.COOKIE, path="/desk")
        return resp
