"""A tiny stand-in for keyperson, notify and referral on a real port (aiohttp)."""

from __future__ import annotations

import asyncio
import json
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.waiting import eventually

Answer = tuple[int, Any]
Handler = Callable[[dict[str, Any], web.Request], Answer]


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class FakePeers:
    """Answers by (method, path); records every request; can hang to force timeouts."""

    routes: dict[tuple[str, str], Handler | Answer] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    delay: dict[str, float] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def on(self, method: str, path: str, answer: Handler | Answer) -> None:
        self.routes[(method, path)] = answer

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.calls.append(Call(request.method, request.path, dict(request.query), body,
                               {k.lower(): v for k, v in request.headers.items()}))
        if request.path in self.delay:
            await asyncio.sleep(self.delay[request.path])
        answer = self.routes.get((request.method, request.path))
        if answer is None:
            return web.json_response({"title": "not found"}, status=404)
        status, payload = answer(body, request) if callable(answer) else answer
        return web.json_response(payload, status=status)

    def sent(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `count` requests reached `path` (outbox deliveries are asynchronous)."""

        async def enough() -> list[Call] | None:
            found = self.sent(path)
            return found if len(found) >= count else None

        return await eventually(enough, timeout=timeout, interval=0.02,
                                what=f"{count} requests to {path}")


def mobile() -> str:
    """A fresh valid UK mobile number in E.164 (tests share one database per backend)."""
    return f"+447400{random.randint(0, 999999):06d}"


def sid(prefix: str) -> str:
    return prefix + "".join(random.choice("0123456789abcdef") for _ in range(32))


def twiml(text: str) -> ET.Element:
    """Parse a TwiML answer; the root must be <Response>."""
    root = ET.fromstring(text)
    assert root.tag == "Response", text
    return root


def referral_created(body: dict[str, Any], _: web.Request) -> Answer:
    """What referral answers to `POST /internal/referrals`."""
    return 200, {"referral_id": f"ref-{body['reference']}", "reference": body["reference"],
                 "urgency": body["urgency"], "respond_by": "2026-11-23T12:00:00Z",
                 "locality": "hub", "team": "hub"}
