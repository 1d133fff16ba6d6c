"""Notify: handoff SMS and calls to key workers, their replies, escalation and alerts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.kit import Kit
from services.common.settings import Settings
from services.notify import deps, figures, handlers
from services.notify.api import board, desk, desk_policy, internal, signposts, staff, twilio
from services.notify.dispatcher import running
from services.notify.models import KIT_MODELS
from services.notify.policy import load_policy
from services.notify.settings import NotifyConfig


def create_app(settings: Settings | None = None, config: NotifyConfig | None = None) -> FastAPI:
    settings = settings or Settings()
    config = config or NotifyConfig()
    policy = load_policy(config.policy_file)  # a broken policy stops start-up, named

    @contextlib.asynccontextmanager
    async def setup(kit: Kit) -> AsyncIterator[None]:
        own = deps.build(kit, config, policy)
        kit.own = own
        handlers.install(kit, own)
        try:
            async with running(own.dispatcher, config.dispatch_in_background):
                yield
        finally:
            await own.close()

    return create_service_app(
        service="notify",
        settings=settings,
        models=KIT_MODELS,
        routers=[internal.router, twilio.router, staff.router, desk.router, figures.router,
                 signposts.router, board.router, desk_policy.router],
        title="Living Well Line: notify",
        description="Handoff SMS and voice calls to key workers, their replies, escalation "
                    "when nobody answers, and alerts to the duty coordinators.",
        setup=setup,
    )
