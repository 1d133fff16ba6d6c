"""Every query of the keyperson service (no commits: the request owns the transaction).

The statements of one assignment's hot path live in `matching` and are re-exported here, so
callers keep to one `repo` for every query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson.matching import (
    HELD,
    WORKER_COLUMNS,
    KeyWorkerNow,
    PersonContext,
    WorkerRow,
    best_candidates,
    candidate_workers,
    holders_of,
    key_worker_now,
    lock_person,
    person_context,
    recount_caseload,
    take_capacity,
)
from services.keyperson.models import (
    Absence,
    Assignment,
    KeyPersonLink,
    KeyWorker,
    KeyWorkerArea,
    Shift,
)

__all__ = ["HELD", "WORKER_COLUMNS", "KeyWorkerNow", "PersonContext", "WorkerRow",
           "best_candidates", "candidate_workers", "holders_of", "key_worker_now",
           "lock_person", "person_context", "recount_caseload", "take_capacity"]

OPEN = ("offered", "accepted", "unassigned")

# --- roster -------------------------------------------------------------------------------

async def get_keyworker(session: AsyncSession, keyworker_id: str) -> KeyWorker | None:
    return await session.get(KeyWorker, keyworker_id)


async def list_keyworkers(session: AsyncSession, *,
                          active_only: bool = False) -> Sequence[KeyWorker]:
    stmt = select(KeyWorker).order_by(KeyWorker.name, KeyWorker.id)
    if active_only:
        stmt = stmt.where(KeyWorker.active.is_(True))
    return (await session.scalars(stmt)).all()


async def workers_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, KeyWorker]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(KeyWorker).where(KeyWorker.id.in_(wanted))
                                 .execution_options(populate_existing=True))
    return {w.id: w for w in rows}


def add(session: AsyncSession, row: object) -> None:
    session.add(row)


async def set_areas(session: AsyncSession, worker: KeyWorker) -> None:
    """Rewrite the locality, team and skill index rows of one worker."""
    await session.execute(delete(KeyWorkerArea).where(KeyWorkerArea.keyworker_id == worker.id))
    for kind, values in (("locality", worker.localities), ("team", worker.teams),
                         ("skill", worker.skills)):
        session.add_all([KeyWorkerArea(kind=kind, value=v, keyworker_id=worker.id)
                         for v in set(values)])


# --- absences and rota --------------------------------------------------------------------

async def absent_now(session: AsyncSession, now: datetime) -> set[str]:
    """Ids of the workers absent at `now`."""
    rows = await session.scalars(select(Absence.keyworker_id)
                                 .where(Absence.ends_at > now, Absence.starts_at <= now))
    return set(rows)


async def absences_of(session: AsyncSession, keyworker_id: str) -> Sequence[Absence]:
    stmt = (select(Absence).where(Absence.keyworker_id == keyworker_id)
            .order_by(Absence.starts_at, Absence.id))
    return (await session.scalars(stmt)).all()


async def get_absence(session: AsyncSession, absence_id: str) -> Absence | None:
    return await session.get(Absence, absence_id)


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


# --- assignments and links ----------------------------------------------------------------

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


async def phone_in_use(session: AsyncSession, phone: str, besides: str | None = None) -> bool:
    """Whether another active worker has this mobile (their reply codes would mix)."""
    stmt = select(KeyWorker.id).where(KeyWorker.phone == phone, KeyWorker.active.is_(True))
    if besides is not None:
        stmt = stmt.where(KeyWorker.id != besides)
    return (await session.execute(stmt.limit(1))).first() is not None


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


async def absences_overlapping(session: AsyncSession, ids: Sequence[str], start: datetime,
                               end: datetime) -> Sequence[Absence]:
    """Absences of `ids` overlapping [start, end)."""
    if not ids:
        return []
    stmt = select(Absence).where(Absence.keyworker_id.in_(list(set(ids))),
                                 Absence.ends_at > start, Absence.starts_at < end)
    return (await session.scalars(stmt)).all()
