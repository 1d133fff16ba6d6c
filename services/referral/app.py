"""Referral: partner referrals, routing rules as data, SLA clocks, webhooks and FHIR."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.fhir_errors import FhirErrors
from services.common.kit import Kit
from services.common.settings import Settings
from services.referral import deps, figures, handlers
from services.referral.api import (
    board,
    desk,
    desk_routing,
    fhir,
    internal,
    outreach,
    referrals,
    routing,
    staff,
    webhooks,
)
from services.referral.directory import api as directory
from services.referral.directory import desk_api as signposts
from services.referral.models import KIT_MODELS
from services.referral.rules import configured_rules_path


def create_app(settings: Settings | None = None, *, rules_path: Path | None = None) -> FastAPI:
    """The referral service; `rules_path` (or LIVEWELL_ROUTING_RULES) picks the rules file."""
    path = rules_path or configured_rules_path()

    @asynccontextmanager
    async def setup(kit: Kit) -> AsyncIterator[None]:
        own = deps.build(kit.settings, path)  # refuses to start on a broken rules file
        kit.own = own
        handlers.install(kit, own)
        try:
            yield
        finally:
            await deps.close(own)

    app = create_service_app(
        service="referral",
        settings=settings or Settings(),
        models=KIT_MODELS,
        routers=[staff.router, referrals.router, routing.router, webhooks.router,
                 fhir.router, internal.router, desk.router, desk.internal_router,
                 figures.router, directory.router, directory.edit_router, signposts.router,
                 board.router, outreach.router, desk_routing.router],
        title="Living Well Line: referrals",
        description="Partner referrals with a reference and a respond-by time, routing rules as "
                    "data, SLA clocks, status webhooks and FHIR ServiceRequest.",
        setup=setup,
    )
    app.add_middleware(FhirErrors)  # outermost: sees every answer on /fhir/*, even a 403 or 500
    return app
