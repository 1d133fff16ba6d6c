"""One service in-process: migrated database, lifespan running, httpx over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN, H_KEY_ID, H_ORG, H_ROLE
from services.common.kit import Kit
from services.common.migrations import upgrade
from services.common.settings import ServiceName, Settings


def key_headers(org: str, role: str = "partner", key_id: str | None = None) -> dict[str, str]:
    """Headers the gateway adds for a request made with an API key."""
    return {H_ACTOR_KIND: "key", H_ORG: org, H_ROLE: role, H_KEY_ID: key_id or f"key-{org}"}


@dataclass
class ServiceHarness:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def kit(self) -> Kit:
        kit: Kit = self.app.state.kit
        return kit


@asynccontextmanager
async def running_service(
    service: ServiceName, create_app: Callable[[Settings], FastAPI], settings: Settings,
    **client_kw: Any,
) -> AsyncIterator[ServiceHarness]:
    """Migrate the service's database, run its lifespan, and yield a client that speaks to it
    as the gateway would (with the internal token)."""
    upgrade(settings, service)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {H_INTERNAL_TOKEN: settings.internal_secret, **client_kw.pop("headers", {})}
        async with httpx.AsyncClient(transport=transport, base_url="http://service",
                                     headers=headers, **client_kw) as client:
            yield ServiceHarness(app=app, client=client)
