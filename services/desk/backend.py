"""Calls to referral, intake and notify on behalf of the signed-in person: the same actor
headers the gateway gave the desk, so each service applies its own role rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from starlette.requests import Request

from services.common.context import (
    H_ACTOR_KIND,
    H_INTERNAL_TOKEN,
    H_KEYWORKER_ID,
    H_PERSON_ID,
    H_PERSON_ROLE,
    H_REQUEST_ID,
    request_id_var,
)
from services.common.settings import ServiceName, Settings


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Unavailable(Exception):
    """A service behind the desk did not answer."""


class Backend:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10),
                                              connector=aiohttp.TCPConnector(limit=100))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, request: Request, method: str, service: ServiceName, path: str,
                   payload: Any = None) -> Answer:
        assert self._session is not None
        h = request.headers
        headers = {H_INTERNAL_TOKEN: self._settings.internal_secret,
                   H_ACTOR_KIND: "person", H_PERSON_ID: h.get(H_PERSON_ID, ""),
                   H_PERSON_ROLE: h.get(H_PERSON_ROLE, ""),
                   H_KEYWORKER_ID: h.get(H_KEYWORKER_ID, ""),
                   "content-type": "application/json"}
        rid = request_id_var.get()
        if rid:
            headers[H_REQUEST_ID] = rid
        url = self._settings.service_url(service) + path
        data = None if payload is None else json.dumps(payload)
        try:
            async with self._session.request(method, url, data=data, headers=headers) as resp:
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(service) from exc
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if resp.status >= 500:
            raise Unavailable(service)
        return Answer(resp.status, body)
