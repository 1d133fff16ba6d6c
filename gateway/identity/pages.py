"""The sign-in pages the gateway serves itself: sign in, accept an invitation, sign out.

Plain forms (POST → redirect → GET), each with a CSRF token; errors in the NHS.UK error
summary; nothing about any person in a URL, a title or a log line.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyotp
import segno
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException

from gateway.identity import accounts
from gateway.identity.config import IdentitySettings
from gateway.identity.gate import Identity
from gateway.identity.oidc_pages import add_routes as add_oidc_routes
from gateway.identity.passkey_pages import add_routes as add_passkey_routes
from gateway.identity.sessions import COOKIE, PRE_COOKIE
from gateway.identity.staff_api import MOUNT, build_staff_api
from services.common.settings import Settings
from services.common.web import Pages, SecurityHeaders, mount_static

log = logging.getLogger("gateway.identity")
HERE = Path(__file__).parent
STATIC_PREFIX = "/desk/static"
ISSUER = "Living Well Line"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of the desk, never another site."""
    if (target and target.startswith("/desk/") and not target.startswith("//")
            and "\\" not in target and not target.startswith(("/desk/sign-", "/desk/invite/"))):
        return target
    return "/desk/"


def make_pages() -> Pages:
    return Pages([HERE / "templates"], globals_={"assetPath": STATIC_PREFIX})


def create_identity(settings: Settings, cfg: IdentitySettings | None = None) -> Identity:
    """The gateway's identity with its sign-in pages and the app that serves them."""
    identity = Identity(settings, make_pages(), cfg)
    identity.app = build_app(identity)
    return identity


def build_app(identity: Identity) -> Any:
    pages = identity.pages
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount_static(app, STATIC_PREFIX)
    app.mount(f"{STATIC_PREFIX}/identity",
              _static(HERE / "static"), name="identity")

    def render(request: Request, name: str, context: dict[str, Any], *,
               status: int = 200) -> Response:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        body = {"csrf_token": identity.csrf.token(pre), **context}
        resp = pages.response(request, name, body, status_code=status)
        if request.cookies.get(PRE_COOKIE) != pre:
            identity.set_cookie(resp, PRE_COOKIE, pre, max_age=3600)
        return resp

    def pre_csrf_ok(request: Request, form: Any) -> bool:
        return identity.csrf.valid(request.cookies.get(PRE_COOKIE), form.get("csrf_token"))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        name = "404.jinja" if exc.status_code == 404 else "error.jinja"
        return render(request, name, {"status": exc.status_code}, status=exc.status_code)

    @app.get("/desk/sign-in")
    async def sign_in_page(request: Request, next: str | None = None) -> Response:
        return render(request, "sign_in.jinja", {"next": safe_next(next), "errors": [],
                                                 "email": "", "oidc": identity.cfg.oidc_enabled})

    @app.post("/desk/sign-in")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email", ""))[:320]
        target = safe_next(str(form.get("next", "")))
        if not pre_csrf_ok(request, form):
            return render(request, "sign_in.jinja", {
                "next": target, "email": email, "oidc": identity.cfg.oidc_enabled,
                "errors": [("email", "Your sign-in form had expired. Try again.")]}, status=400)
        errors = [(f, m) for f, m in (
            ("email", "Enter your email address" if not email.strip() else ""),
            ("password", "Enter your password" if not form.get("password") else ""),
            ("code", "Enter the code from your authenticator app" if not form.get("code")
             else "")) if m]
        if errors:
            return render(request, "sign_in.jinja", {"next": target, "email": email,
                                                     "errors": errors,
                                                     "oidc": identity.cfg.oidc_enabled},
                          status=422)
        address = request.client.host if request.client else "unknown"
        token = await identity.sign_in(email, str(form.get("password", "")),
                                       str(form.get("code", "")), address)
        if token is None:
            return render(request, "sign_in.jinja", {
                "next": target, "email": email, "oidc": identity.cfg.oidc_enabled,
                "errors": [("email", "Your email, password or code was not right, or you "
                                     "tried too many times. Try again, or wait 15 minutes.")]},
                status=401)
        resp = RedirectResponse(target, status_code=303)
        identity.set_cookie(resp, COOKIE, token)
        return resp

    @app.get("/desk/invite/{token}")
    async def invitation_page(request: Request, token: str) -> Response:
        found = await identity.invitation(token)
        if found is None:
            raise HTTPException(404)
        inv, account = found
        return render(request, "enrol.jinja", _enrol_context(inv.totp_secret, account.email,
                                                             [], token))

    @app.post("/desk/invite/{token}")
    async def accept_invitation(request: Request, token: str) -> Response:
        form = await request.form()
        found = await identity.invitation(token)
        if found is None:
            raise HTTPException(404)
        inv, account = found
        if not pre_csrf_ok(request, form):
            errors = [("password", "Your form had expired. Try again.")]
            return render(request, "enrol.jinja",
                          _enrol_context(inv.totp_secret, account.email, errors, token),
                          status=400)
        try:
            session_token = await identity.enrol(token, str(form.get("password", "")),
                                                 str(form.get("code", "")))
        except accounts.AccountError as exc:
            return render(request, "enrol.jinja", _enrol_context(
                inv.totp_secret, account.email, [(exc.field, str(exc))], token), status=422)
        resp = RedirectResponse("/desk/", status_code=303)
        identity.set_cookie(resp, COOKIE, session_token)
        return resp

    @app.get("/desk/sign-out")
    async def sign_out_page(request: Request) -> Response:
        person = await identity.resolve(request.cookies.get(COOKIE))
        if person is None:
            return RedirectResponse("/desk/sign-in", status_code=303)
        return pages.response(request, "sign_out.jinja",
                              {"csrf_token": identity.csrf.token(person.session_token)})

    @app.post("/desk/sign-out")
    async def sign_out(request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(COOKIE)
        if cookie and identity.csrf.valid(cookie, str(form.get("csrf_token", ""))):
            await identity.sign_out(cookie)
        elif cookie:
            raise HTTPException(400)
        resp = RedirectResponse("/desk/sign-in", status_code=303)
        resp.delete_cookie(COOKIE, path="/desk")
        return resp

    app.mount(MOUNT, build_staff_api(identity))
    add_passkey_routes(app, identity, safe_next)
    add_oidc_routes(app, identity, safe_next, render)
    return SecurityHeaders(app, no_store=True)


def _static(directory: Path) -> Any:
    from starlette.staticfiles import StaticFiles

    return StaticFiles(directory=directory)


def _enrol_context(secret: str, email: str, errors: list[tuple[str, str]],
                   token: str) -> dict[str, Any]:
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your "
                                                "authenticator app")
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": Markup(svg), "secret": spaced, "errors": errors,
            "action": f"/desk/invite/{quote(token)}"}
