"""Pages that are the same for everyone in a language, kept ready to send.

The home page, advice, urgent help, the statements and the blank self-assessment hold nothing
about anyone: each is rendered once per language and path (`pages.cached`), then kept here
as bytes with its headers and an ETag. `ServeKept` answers a GET for a kept page before
FastAPI's routing, dependency solving and request objects, which were most of the site's
work on a page once the rendering was kept; the route answers the same bytes the first time
and whenever the fast path does not apply.

A kept page is `Cache-Control: public, max-age=300` unless its route says otherwise (the
self-assessment form stays `no-store`, like every page a person's answers can reach), with
`Vary: Accept-Language, Cookie`: a browser or shared cache keeps each language apart, and a
browser asking again with `If-None-Match` gets a `304` with no body.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.site.i18n import COOKIE, choose

PUBLIC = "public, max-age=300"
VARY = "Accept-Language, Cookie"


@dataclass(frozen=True, slots=True)
class KeptPage:
    body: bytes
    etag: bytes | None  # None for a page no cache may keep (no-store): nothing to revalidate
    headers: list[tuple[bytes, bytes]]  # of a 200; a 304 sends those without content-*
    route: Any  # the route that rendered it, for the request metrics' label

    async def send(self, scope: Scope, send: Send) -> None:
        if self.etag and _matches(_header(scope, b"if-none-match"), self.etag):
            await send({"type": "http.response.start", "status": 304, "headers": [
                (k, v) for k, v in self.headers if not k.startswith(b"content-type")
                and k != b"content-length"]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def keep(body: str, lang: str, cache_control: str | None, route: Any) -> KeptPage:
    data = body.encode("utf-8")
    cache_control = cache_control or PUBLIC
    etag = None
    headers = [(b"content-type", b"text/html; charset=utf-8"),
               (b"content-length", str(len(data)).encode()),
               (b"content-language", lang.encode()), (b"vary", VARY.encode()),
               (b"cache-control", cache_control.encode())]
    if cache_control != "no-store":
        etag = b'"' + hashlib.sha256(data).hexdigest()[:24].encode() + b'"'
        headers.append((b"etag", etag))
    return KeptPage(body=data, etag=etag, route=route, headers=headers)


class KeptResponse(Response):
    """A kept page as a route's answer (the first time, or when the fast path stood aside)."""

    def __init__(self, page: KeptPage) -> None:
        self.page = page
        self.status_code = 200
        self.background = None
        self.body = page.body
        self.raw_headers = list(page.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.page.send(scope, send)


def language_of(scope: Scope) -> str:
    """The request's language exactly as `pages.language` reads it, from the raw headers."""
    cookie = _header(scope, b"cookie")
    chosen = cookie_parser(cookie.decode("latin-1")).get(COOKIE) if cookie else None
    accept = _header(scope, b"accept-language")
    return choose(chosen, accept.decode("latin-1") if accept is not None else None)


class ServeKept:
    """Answers a GET for a kept page straight from `kept`; everything else goes on."""

    def __init__(self, app: ASGIApp, kept: dict[tuple[str, str], KeptPage]) -> None:
        self.app = app
        self.kept = kept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.kept:
            page = self.kept.get((language_of(scope), scope["path"]))
            if page is not None:
                scope["route"] = page.route
                await page.send(scope, send)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _matches(if_none_match: bytes | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(b",")]
    return b"*" in tags or any(t.removeprefix(b"W/") == etag for t in tags)
