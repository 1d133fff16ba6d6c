"""Keyperson: roster, 24/7 duty rota and assignment of a key worker to each person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.kit import Kit
from services.common.settings import Settings
from services.keyperson import deps, handlers
from services.keyperson.api import ROUTERS
from services.keyperson.models import KIT_MODELS


@asynccontextmanager
async def _setup(kit: Kit) -> AsyncIterator[None]:
    """Build the service's own parts once and register its outbox handlers."""
    own = deps.build()
    kit.own = own
    handlers.install(kit, own)
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """The keyperson service."""
    return create_service_app(
        service="keyperson",
        settings=settings or Settings(),
        models=KIT_MODELS,
        routers=ROUTERS,
        title="Living Well Line: key workers",
        description="Key worker roster, 24/7 duty rota and continuity-first assignment of a "
                    "key worker to each person.",
        setup=_setup,
    )
