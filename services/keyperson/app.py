"""Keyperson: roster, 24/7 duty rota and assignment of a key worker to each person."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.app import create_service_app
from services.common.kit import Kit
from services.common.settings import Settings
from services.keyperson import assignment, outbound, waiting
from services.keyperson import repository as repo
from services.keyperson.api import ROUTERS
from services.keyperson.areas import AREAS, AreaBook
from services.keyperson.models import KIT_MODELS

log = logging.getLogger(__name__)


@asynccontextmanager
async def _timers(kit: Kit) -> AsyncIterator[None]:
    """Register the delayed jobs the outbox relay runs in this service, and the localities
    and teams key workers may serve."""

    async def absence_starts(session: AsyncSession, payload: dict[str, Any]) -> None:
        now = kit.clock.now()
        absence = await repo.get_absence(session, str(payload["absence_id"]))
        if absence is None or not absence.starts_at <= now < absence.ends_at:
            return  # cancelled, or already over
        moved = await assignment.move_people_of(session, absence.keyworker_id, now)
        log.info("absence started; open referrals handed to cover",
                 extra={"event": "absence.start", "keyworker_id": absence.keyworker_id,
                        "count": moved})

    async def retry_waiting(session: AsyncSession, payload: dict[str, Any]) -> None:
        moved = await waiting.retry_waiting(session, kit.clock.now(), waiting.cursor(payload))
        if moved:
            log.info("waiting referrals given a key worker or duty coordinator",
                     extra={"event": "assignment.retry_waiting", "count": moved})

    kit.relay.local_handlers[outbound.ABSENCE_STARTS] = absence_starts
    kit.relay.local_handlers[waiting.RETRY] = retry_waiting
    kit.extras[AREAS] = AreaBook()
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
        setup=_timers,
    )
