"""The duty rota's and absences' queries: shifts and absences overlapping a time (no
commits: the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson.models import Absence, Shift


async def absent_now(session: AsyncSession, now: datetime) -> set[str]:
    """Ids of the workers absent at `now`."""
    rows = await session.scalars(select(Absence.keyworker_id)
                                 .where(Absence.ends_at > now, Absence.starts_at <= now))
    return set(rows)


async def absences_of(session: AsyncSession, keyworker_id: str) -> Sequence[Absence]:
    stmt = (select(Absence).where(Absence.keyworker_id == keyworker_id)
            .order_by(Absence.starts_at, Absence.id))
    return (await session.scalars(stmt)).all()


async def absences_not_ended(session: AsyncSession, now: datetime) -> Sequence[Absence]:
    """Every absence still to come or under way at `now`, earliest first."""
    stmt = select(Absence).where(Absence.ends_at > now).order_by(Absence.starts_at, Absence.id)
    return (await session.scalars(stmt)).all()


async def get_absence(session: AsyncSession, absence_id: str) -> Absence | None:
    return await session.get(Absence, absence_id)


async def absences_overlapping(session: AsyncSession, ids: Sequence[str], start: datetime,
                               end: datetime) -> Sequence[Absence]:
    """Absences of `ids` overlapping [start, end)."""
    if not ids:
        return []
    stmt = select(Absence).where(Absence.keyworker_id.in_(list(set(ids))),
                                 Absence.ends_at > start, Absence.starts_at < end)
    return (await session.scalars(stmt)).all()


async def on_shift_between(session: AsyncSession, ids: Sequence[str], start: datetime,
                           end: datetime) -> set[str]:
    """Which of `ids` have any shift overlapping [start, end)."""
    if not ids:
        return set()
    rows = await session.scalars(
        select(Shift.keyworker_id).where(Shift.keyworker_id.in_(list(ids)),
                                         Shift.ends_at > start, Shift.starts_at < end))
    return set(rows)


async def shifts_overlapping(session: AsyncSession, roles: Sequence[str], start: datetime,
                             end: datetime) -> Sequence[Shift]:
    """Shifts of `roles` overlapping [start, end), earliest first."""
    stmt = (select(Shift).where(Shift.role.in_(list(roles)), Shift.ends_at > start,
                                Shift.starts_at < end)
            .order_by(Shift.starts_at, Shift.id))
    return (await session.scalars(stmt)).all()


async def get_shift(session: AsyncSession, shift_id: str) -> Shift | None:
    return await session.get(Shift, shift_id)
