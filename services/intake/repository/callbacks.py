"""The callback list and the steps taken on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Callback, CallbackAttempt
from services.intake.repository.rows import inserted


async def add_callback_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    """One callback per contact and reason, however often a status callback repeats."""
    return await inserted(session, Callback, values)


async def open_crisis_callback(session: AsyncSession, person_id: str) -> Callback | None:
    stmt = select(Callback).where(Callback.person_id == person_id, Callback.status == "open",
                                  Callback.risk == "crisis")
    return (await session.scalars(stmt.limit(1))).first()


async def open_callbacks(session: AsyncSession, limit: int) -> Sequence[Callback]:
    """The callback queue: highest risk first, then the earliest deadline."""
    stmt = (select(Callback).where(Callback.status == "open")
            .order_by(Callback.risk_rank, Callback.due_at, Callback.id).limit(limit))
    return (await session.scalars(stmt)).all()


async def get_callback(session: AsyncSession, callback_id: str,
                       *, for_update: bool = False) -> Callback | None:
    stmt = select(Callback).where(Callback.id == callback_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def open_callback_count(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many callbacks are open, and when the oldest was made."""
    count, oldest = (await session.execute(
        select(func.count(), func.min(Callback.created_at)).where(Callback.status == "open"))
    ).one()
    return int(count), oldest


async def attempts_of_callbacks(session: AsyncSession,
                                ids: Sequence[str]) -> Sequence[CallbackAttempt]:
    """Every step on these callbacks, oldest first."""
    if not ids:
        return []
    stmt = (select(CallbackAttempt).where(CallbackAttempt.callback_id.in_(ids))
            .order_by(CallbackAttempt.at, CallbackAttempt.id))
    return (await session.scalars(stmt)).all()


async def attempts_of(session: AsyncSession, callback_id: str) -> Sequence[CallbackAttempt]:
    stmt = select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
    return (await session.scalars(stmt.order_by(CallbackAttempt.at, CallbackAttempt.id))).all()
