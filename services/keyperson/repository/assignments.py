"""Assignments' and key-person links' queries: one referral's assignment, a worker's or a
person's open ones, the referrals waiting for a key worker, and the month's continuity
counts (no commits: the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, and_, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson.models import Assignment, KeyPersonLink

OPEN = ("offered", "accepted", "unassigned")

_assignment = cast(Table, Assignment.__table__)
_ASSIGNMENT_COLUMNS = tuple(c.key for c in _assignment.columns)
_INSERT_ASSIGNMENT = insert(_assignment)


def assignment_values(a: Assignment, prefix: str = "") -> dict[str, Any]:
    """Every column of a new assignment, keyed `prefix` + column."""
    return {prefix + key: getattr(a, key) for key in _ASSIGNMENT_COLUMNS}


def assignment_insert(prefix: str) -> Insert:
    """An INSERT of one assignment whose values are bound as `prefix` + column."""
    return insert(_assignment).values(
        {key: bindparam(prefix + key, type_=_assignment.c[key].type)
         for key in _ASSIGNMENT_COLUMNS})


async def insert_assignment(session: AsyncSession, a: Assignment) -> None:
    """Write a new assignment with one INSERT on the table: `a` stays out of the session,
    every column set (the unit of work cost more CPU than the statement itself)."""
    await session.execute(_INSERT_ASSIGNMENT, assignment_values(a))


async def assignment_for(session: AsyncSession, referral_id: str,
                         *, for_update: bool = False) -> Assignment | None:
    stmt = select(Assignment).where(Assignment.referral_id == referral_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def open_assignments_of(session: AsyncSession, keyworker_id: str) -> Sequence[Assignment]:
    stmt = (select(Assignment).where(Assignment.keyworker_id == keyworker_id,
                                     Assignment.status.in_(("offered", "accepted")))
            .order_by(Assignment.created_at, Assignment.id).with_for_update())
    return (await session.scalars(stmt)).all()


async def waiting_assignments(session: AsyncSession, limit: int,
                              after: tuple[datetime, str] | None = None) -> Sequence[Assignment]:
    """Referrals waiting for a key worker, soonest respond-by first: `unassigned` ones, and
    those a duty coordinator holds (not yet accepted) because nobody fitted. Rows another
    transaction is moving are skipped (PostgreSQL); `after` continues a previous page."""
    stmt = select(Assignment).where(or_(
        Assignment.status == "unassigned",
        and_(Assignment.status == "offered", Assignment.via == "duty_coordinator")))
    if after is not None:
        stmt = stmt.where(or_(Assignment.respond_by > after[0],
                              and_(Assignment.respond_by == after[0], Assignment.id > after[1])))
    stmt = (stmt.order_by(Assignment.respond_by, Assignment.id).limit(limit)
            .with_for_update(skip_locked=True))
    return (await session.scalars(stmt)).all()


async def open_assignment_count(session: AsyncSession, person_id: str) -> int:
    stmt = select(func.count()).select_from(Assignment).where(
        Assignment.person_id == person_id, Assignment.status.in_(OPEN))
    return int((await session.execute(stmt)).scalar_one())


async def latest_open_assignment(session: AsyncSession, person_id: str) -> Assignment | None:
    stmt = (select(Assignment).where(Assignment.person_id == person_id,
                                     Assignment.status.in_(("offered", "accepted")))
            .order_by(Assignment.created_at.desc(), Assignment.id).limit(1))
    return (await session.scalars(stmt)).first()


async def link_for(session: AsyncSession, person_id: str | None) -> KeyPersonLink | None:
    """The person's current key-person link (ended links are not returned)."""
    if person_id is None:
        return None
    link = await session.get(KeyPersonLink, person_id)
    return link if link is not None and link.ended_at is None else None


async def any_link_for(session: AsyncSession, person_id: str) -> KeyPersonLink | None:
    return await session.get(KeyPersonLink, person_id)


async def continuity_counts(session: AsyncSession, start: datetime,
                            end: datetime) -> tuple[int, int]:
    """Assignments asked for in [start, end) for people who had a key worker then, and how
    many of them that same worker accepted."""
    same = and_(Assignment.accepted_at.is_not(None),
                Assignment.keyworker_id == Assignment.key_person_id)
    stmt = select(func.count(), func.count().filter(same)).where(
        Assignment.key_person_id.is_not(None),
        Assignment.created_at >= start, Assignment.created_at < end)
    returning, kept = (await session.execute(stmt)).one()
    return int(returning), int(kept)
