"""The gateway in-process, in front of a recording stand-in for the four services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from aiohttp import web

from gateway.app import Gateway, create_app
from gateway.config import GatewaySettings
from services.common.migrations import upgrade
from services.common.settings import SERVICES, Settings
from tests.conftest import make_settings
from tests.support.twilio import free_port


@dataclass
class Upstream:
    """Answers every request like a service would, and remembers what it was sent."""

    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    status: int = 200
    extra_headers: dict[str, str] = field(default_factory=dict)
    location: str = ""  # when set, every answer is a redirect there
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append({"path": request.path, "raw_path": request.raw_path, "body": body,
                          "headers": {k.lower(): v for k, v in request.headers.items()},
                          "method": request.method, "query": request.query_string})
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.location:
            return web.Response(status=307, headers={"Location": self.location})
        if request.path.endswith("/readyz"):
            return web.json_response({"status": "ready"})
        if request.path.startswith("/twilio/"):
            return web.Response(status=self.status, body=b"<Response><Say>hi</Say></Response>",
                                content_type="text/xml", headers=self.extra_headers)
        return web.json_response({"ok": True, "path": request.path}, status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@dataclass
class GatewayHarness:
    gateway: Gateway
    client: httpx.AsyncClient
    upstream: Upstream
    settings: Settings


@asynccontextmanager
async def gateway_harness(database_url: str, tmp_path: Any,
                          **config: Any) -> AsyncIterator[GatewayHarness]:
    """The gateway with its lifespan running, `config` over the test defaults."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        database_url, tmp_path, **{f"{name}_url": base for name in SERVICES},
        twilio_auth_token="test-twilio-token",
        public_base_url="https://line.example.org", crisis_line_number="+441234567890")
    upgrade(settings, "gateway")
    upstream = Upstream(port)
    await upstream.start()
    gateway = create_app(settings, GatewaySettings(**{
        "voice_timeout_seconds": 3.0, "key_cache_seconds": 0.0, "rate_limit_key": "5/minute",
        "max_body_bytes": 10_000, **config}))
    try:
        async with gateway.ops.router.lifespan_context(gateway.ops):
            transport = httpx.ASGITransport(app=gateway)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="https://line.example.org") as client:
                yield GatewayHarness(gateway, client, upstream, settings)
    finally:
        await upstream.stop()


@pytest.fixture
async def gw(database_url: str, tmp_path: Any) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(database_url, tmp_path) as harness:
        yield harness


@pytest.fixture
async def gw_short(database_url: str, tmp_path: Any) -> AsyncIterator[GatewayHarness]:
    """The gateway with a voice timeout of half a second, for the tests of what a caller
    hears when intake is slow (the default allows for a busy test machine)."""
    async with gateway_harness(database_url, tmp_path, voice_timeout_seconds=0.5) as harness:
        yield harness


async def call_raw(gw: GatewayHarness, method: str, raw_path: bytes, *,
                   headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"",
                   query: bytes = b"", client: tuple[str, int] = ("127.0.0.1", 50000),
                   ) -> tuple[int, dict[bytes, bytes], bytes, bool]:
    """One request straight into the ASGI app with `raw_path` exactly as a client's own
    socket would send it (httpx would normalise it first). Returns the status, headers, body
    and whether the app read the request body at all."""
    decoded = unquote(raw_path.decode("latin-1"))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "https", "path": decoded, "raw_path": raw_path,
             "query_string": query, "root_path": "",
             "headers": [(b"host", b"line.example.org"), *(headers or [])],
             "client": client, "server": ("127.0.0.1", 443)}
    read = [False]
    out: dict[str, Any] = {"headers": [], "body": b""}

    async def receive() -> dict[str, Any]:
        read[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await gw.gateway(scope, receive, send)
    return out["status"], dict(out["headers"]), out["body"], read[0]
