"""Security headers on every page a web face answers (pure ASGI, no routing on the hot path)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts, styles, images and fonts only from our own origin; no inline script; no framing.
# `form-action` allows extra origins for a sign-on provider that a form redirects to.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'{extra}")


def content_security_policy(form_origins: Iterable[str] = ()) -> str:
    extra = "".join(f" {origin}" for origin in form_origins)
    return _CSP.format(extra=extra)


class SecurityHeaders:
    """Adds CSP, nosniff, Referrer-Policy and framing rules to every response; adds
    `Cache-Control: no-store` to any response that did not set its own cache policy when
    `no_store` is true (the staff desk: every page may carry personal data)."""

    def __init__(self, app: ASGIApp, *, no_store: bool, form_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.no_store = no_store
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", content_security_policy(form_origins).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {h for h, _ in self.headers}]
                headers.extend(self.headers)
                if self.no_store and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
