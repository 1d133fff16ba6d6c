"""Forwarding to the owning service over one pooled aiohttp session."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from yarl import URL

from gateway.routes import Route
from services.common.context import (
    H_ACTOR_KIND,
    H_CSRF,
    H_INTERNAL_TOKEN,
    H_KEY_ID,
    H_KEYWORKER_ID,
    H_ORG,
    H_PERSON_ID,
    H_PERSON_ROLE,
    H_REQUEST_ID,
    H_ROLE,
    INTERNAL_HEADERS,
)
from services.common.settings import Settings

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
    b"authorization", b"x-twilio-signature", b"x-request-id",
    # What a client says about the connection is not believed by anyone behind the gateway.
    b"forwarded", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
    b"x-forwarded-port", b"x-forwarded-prefix", b"x-forwarded-server", b"x-forwarded-ssl",
    b"x-real-ip",
    *(h.encode() for h in INTERNAL_HEADERS),
})
PASS_BACK = ("content-type", "retry-after", "location", "cache-control", "etag", "link",
             # Web pages: their language, cookie and the security headers they are sent with.
             "set-cookie", "content-language", "vary", "last-modified",
             "content-security-policy", "x-content-type-options", "referrer-policy",
             "x-frame-options", "cross-origin-opener-policy", "cross-origin-resource-policy",
             "permissions-policy")
# A service answered but could not record the webhook (its database failed mid-request).
H_UNRECORDED = "x-livewell-unrecorded"


@dataclass(frozen=True, slots=True)
class Upstream:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    unrecorded: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str
    key_id: str | None = None
    org: str | None = None
    role: str | None = None
    # A signed-in person (kind "person"): account, role, linked key worker, CSRF token.
    person_id: str | None = None
    person_role: str | None = None
    keyworker_id: str | None = None
    csrf: str | None = None


class Forwarder:
    """Sends a request on to its service with the internal token, request id and actor."""

    def __init__(self, settings: Settings) -> None:
        self._bases = {name: settings.service_url(name)
                       for name in ("intake", "referral", "keyperson", "notify", "site", "desk")}
        # host:port of every service: a redirect there must not reach the client.
        self._internal = {(u.host, u.port) for u in map(URL, self._bases.values())}
        self._token = settings.internal_secret
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def headers_for(self, raw: list[tuple[bytes, bytes]], principal: Principal,
                    request_id: str) -> dict[str, str]:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw
                   if k.lower() not in HOP_BY_HOP and not k.lower().startswith(b"x-forwarded-")}
        headers[H_INTERNAL_TOKEN] = self._token
        headers[H_REQUEST_ID] = request_id
        headers[H_ACTOR_KIND] = principal.kind
        if principal.key_id:
            headers[H_KEY_ID] = principal.key_id
            headers[H_ORG] = principal.org or ""
            headers[H_ROLE] = principal.role or ""
        if principal.person_id:
            headers[H_PERSON_ID] = principal.person_id
            headers[H_PERSON_ROLE] = principal.person_role or ""
            headers[H_KEYWORKER_ID] = principal.keyworker_id or ""
            headers[H_CSRF] = principal.csrf or ""
        return headers

    async def forward(self, route: Route, method: str, path: str, query: str,
                      headers: dict[str, str], body: bytes, timeout: float) -> Upstream:
        """One request to the service; raises on connection failure or timeout. `path` and
        `query` go on the wire exactly as given (vetted by `gateway.targets`): yarl would
        otherwise re-quote them, and what the service sees would not be what was routed."""
        assert self._session is not None
        url = URL(self._bases[route.service] + path + (f"?{query}" if query else ""),
                  encoded=True)
        async with self._session.request(
            method, url, data=body or None, headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False,
        ) as resp:
            payload = await resp.read()
            out = [(k.lower().encode("latin-1"), self._public(k, v).encode("latin-1"))
                   for k, v in resp.headers.items() if k.lower() in PASS_BACK]
            return Upstream(resp.status, out, payload, unrecorded=H_UNRECORDED in resp.headers)

    def _public(self, name: str, value: str) -> str:
        """A `Location` at a service's own address becomes the same path at the gateway."""
        if name.lower() != "location":
            return value
        try:
            target = URL(value, encoded=True)
        except ValueError:
            return "/"
        if target.is_absolute() and (target.host, target.port) in self._internal:
            return target.raw_path_qs
        return value
