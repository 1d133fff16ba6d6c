"""Keyperson: roster, 24/7 duty rota and assignment of a key worker to each person."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.settings import Settings
from services.keyperson.api import router
from services.keyperson.models import KIT_MODELS


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        service="keyperson",
        settings=settings or Settings(),
        models=KIT_MODELS,
        routers=[router],
        title="Living Well Line: key workers",
        description="Key worker roster, duty rota and assignment.",
    )
