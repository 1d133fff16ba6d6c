"""The twilio SDK's async HTTP client, aimed at `TWILIO_API_BASE_URL` (the real API or a mock).

Imported on the first send only (see `senders.TwilioSender.client`): the SDK's REST client
brings `requests` with it.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from services.notify.outcomes import RetryAfter

_TWILIO_HOST = re.compile(r"^https://([a-z0-9-]+\.)*twilio\.com")


class BaseUrlHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Rewrites `https://api.twilio.com` (and any `*.twilio.com`) to `base_url`, sends basic
    auth as a header, and surfaces a 429's Retry-After, which the SDK's exception drops."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        hdrs = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            hdrs["Authorization"] = f"Basic {token}"
        kwargs: dict[str, Any] = {
            "params": _clean(params), "data": _clean(data), "headers": hdrs,
            "timeout": aiohttp.ClientTimeout(total=timeout or self.timeout),
            "allow_redirects": allow_redirects,
        }
        target = _TWILIO_HOST.sub(self.base_url, url, count=1)
        async with self._session.request(method.upper(), target, **kwargs) as resp:
            response = Response(resp.status, await resp.text(), resp.headers)
        if response.status_code == 429:
            raw = resp.headers.get("Retry-After")
            try:
                seconds = float(raw) if raw else None
            except ValueError:
                seconds = None
            raise RetryAfter(seconds)
        return response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _clean(values: dict[str, object] | None) -> list[tuple[str, str]] | None:
    """aiohttp wants strings; the SDK passes lists for repeated parameters."""
    if values is None:
        return None
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            out.append((key, str(item)))
    return out


def twilio_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    """A `twilio.rest.Client` whose requests go to `base_url`."""
    http = BaseUrlHttpClient(base_url, timeout)
    return Client(account_sid, auth_token, http_client=http)
