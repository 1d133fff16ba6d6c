"""The gateway in-process, in front of a recording stand-in for the four services."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from gateway.app import Gateway, create_app
from gateway.config import GatewaySettings
from services.common.migrations import upgrade
from services.common.settings import Settings
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Upstream:
    """Answers every request like a service would, and remembers what it was sent."""

    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    status: int = 200
    extra_headers: dict[str, str] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append({"path": request.path, "body": body,
                          "headers": {k.lower(): v for k, v in request.headers.items()},
                          "method": request.method, "query": request.query_string})
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.path.endswith("/readyz"):
            return web.json_response({"status": "ready"})
        if request.path.startswith("/twilio/"):
            return web.Response(status=self.status, body=b"<Response><Say>hi</Say></Response>",
                                content_type="text/xml", headers=self.extra_headers)
        return web.json_response({"ok": True, "path": request.path}, status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
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


@pytest.fixture
async def gw(database_url: str, tmp_path: Any) -> AsyncIterator[GatewayHarness]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        database_url, tmp_path, intake_url=base, referral_url=base, keyperson_url=base,
        notify_url=base, twilio_auth_token="test-twilio-token",
        public_base_url="https://line.example.org", crisis_line_number="+441234567890")
    upgrade(settings, "gateway")
    upstream = Upstream(port)
    await upstream.start()
    config = GatewaySettings(voice_timeout_seconds=0.5, key_cache_seconds=0.0,
                             rate_limit_key="5/minute", max_body_bytes=10_000)
    gateway = create_app(settings, config)
    async with gateway.ops.router.lifespan_context(gateway.ops):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="https://line.example.org") as client:
            yield GatewayHarness(gateway, client, upstream, settings)
    await upstream.stop()
