"""`/desk/sign-in/sso` and its callback: single sign-on, offered when OIDC_* are set."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from gateway.identity import oidc
from gateway.identity.gate import Identity
from gateway.identity.sessions import COOKIE

log = logging.getLogger("gateway.identity")
CALLBACK = "/desk/sign-in/sso/callback"


def add_routes(app: FastAPI, identity: Identity, safe_next: Callable[[str | None], str],
               render: Callable[..., Response]) -> None:
    cfg = identity.cfg
    provider: oidc.Provider | None = None
    if cfg.oidc_enabled:
        assert cfg.oidc_issuer and cfg.oidc_client_id and cfg.oidc_client_secret
        provider = oidc.Provider(cfg.oidc_issuer, cfg.oidc_client_id, cfg.oidc_client_secret,
                                 identity.settings.public_base_url.rstrip("/") + CALLBACK,
                                 identity.settings.internal_secret)

    def failed(request: Request) -> Response:
        return render(request, "sign_in.jinja", {
            "next": "/desk/", "email": "", "oidc": True,
            "errors": [("email", "Signing in with your organisation's account did not work. "
                                 "Try again, or ask for an invitation if you have none.")]},
            status=401)

    @app.get("/desk/sign-in/sso")
    async def start(request: Request, next: str | None = None) -> Response:
        if provider is None:
            raise HTTPException(404)
        try:
            url, cookie = await provider.start(safe_next(next))
        except Exception as exc:  # the provider not answering its discovery
            log.error("single sign-on provider unavailable", extra={
                "event": "identity.sso_unavailable", "error": type(exc).__name__})
            return failed(request)
        resp = RedirectResponse(url, status_code=303)
        identity.set_cookie(resp, oidc.COOKIE, cookie, max_age=oidc.FLOW_SECONDS)
        return resp

    @app.get(CALLBACK)
    async def callback(request: Request, code: str = "", state: str = "") -> Response:
        if provider is None:
            raise HTTPException(404)
        address = request.client.host if request.client else "unknown"
        try:
            flow = provider.flow(request.cookies.get(oidc.COOKIE), state)
            email = await provider.verified_email(code, flow)
        except Exception as exc:  # SsoError, or the provider failing mid-way
            log.warning("single sign-on refused", extra={"event": "identity.sso_refused",
                                                         "error": type(exc).__name__})
            return failed(request)
        token = await identity.sso_sign_in(email, address)
        if token is None:
            return failed(request)
        resp = RedirectResponse(flow.next, status_code=303)
        identity.set_cookie(resp, COOKIE, token)
        resp.delete_cookie(oidc.COOKIE, path="/desk")
        return resp
