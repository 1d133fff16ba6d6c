"""The reads and capacity writes of one assignment: the person's context, candidates in the
ranking's own order, and a worker's place taken, counted again, or a person serialised.

Kept apart from the other queries because these are the statements on the assignment's hot
path, built once (the `lru_cache`s below hold compiled shapes, nothing that changes what a
query answers) and measured by `bench/assignment.py`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    case,
    desc,
    distinct,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.keyperson.models import (
    Absence,
    Assignment,
    KeyPersonLink,
    KeyWorker,
    KeyWorkerArea,
    Shift,
)

HELD = ("offered", "accepted")  # a worker holds the referral: the person is on their caseload


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """The columns of a key worker that assignment reads: plain values, no ORM object."""

    id: str
    phone: str
    email: str | None
    localities: list[str]
    teams: list[str]
    skills: list[str]
    caseload: int
    max_caseload: int
    active: bool
    last_assigned_at: datetime | None

    @classmethod
    def of(cls, w: KeyWorker) -> WorkerRow:
        return cls(w.id, w.phone, w.email, w.localities, w.teams, w.skills, w.caseload,
                   w.max_caseload, w.active, w.last_assigned_at)


WORKER_COLUMNS: tuple[Any, ...] = (
    KeyWorker.id, KeyWorker.phone, KeyWorker.email, KeyWorker.localities, KeyWorker.teams,
    KeyWorker.skills, KeyWorker.caseload, KeyWorker.max_caseload, KeyWorker.active,
    KeyWorker.last_assigned_at)


def _worker_row(row: Row[Any]) -> WorkerRow:
    return WorkerRow(*row[:len(WORKER_COLUMNS)])


@dataclass(frozen=True, slots=True)
class KeyWorkerNow:
    """A person's key worker as assignment sees them at one moment."""

    worker: WorkerRow
    absent: bool  # absent at that moment
    on_shift: bool  # a shift overlapping the window (False when no window was asked)


@dataclass(frozen=True, slots=True)
class PersonContext:
    """What assignment must know before ranking, read in one statement."""

    assigned: bool  # the referral has an assignment already
    link_keyworker_id: str | None  # the person's current key person
    key_worker: KeyWorkerNow | None  # that worker (else the holder below), when on the roster
    holder_id: str | None = None  # who holds another open referral of the person, if anyone
    link_holds: bool = False  # the key person holds another open referral of the person

    @property
    def holders(self) -> frozenset[str]:
        """Workers with the person on their caseload already (no new place needed)."""
        held = {self.holder_id} if self.holder_id else set()
        if self.link_holds and self.link_keyworker_id:
            held.add(self.link_keyworker_id)
        return frozenset(held)


async def candidate_workers(session: AsyncSession, locality: str, team: str | None,
                            *, include_full: bool = False) -> Sequence[KeyWorker]:
    """Active workers with headroom (or all, to explain) serving the locality or the team."""
    area = KeyWorkerArea
    match = and_(area.kind == "locality", area.value == locality)
    if team is not None:
        match = or_(match, and_(area.kind == "team", area.value == team))
    ids = select(area.keyworker_id).where(match)
    stmt = select(KeyWorker).where(KeyWorker.id.in_(ids)).execution_options(
        populate_existing=True)
    if not include_full:
        stmt = stmt.where(KeyWorker.active.is_(True), KeyWorker.caseload < KeyWorker.max_caseload)
    return (await session.scalars(stmt)).all()


async def best_candidates(
    session: AsyncSession, locality: str, team: str | None, skills: Sequence[str], *,
    window: tuple[datetime, datetime] | None, exclude: Collection[str], limit: int | None,
    both: bool = False, present_at: datetime | None = None,
) -> list[tuple[WorkerRow, bool]]:
    """Eligible workers in the ranking's own order (after continuity), best first, with
    whether each is on shift in `window`: the first `limit` only, so that a borough of
    thousands of workers costs one indexed query and a few dozen rows. `both`: only workers
    serving the locality and in the team. `present_at`: leave out workers absent then."""
    both = both and team is not None
    stmt = _candidates_stmt(both, team is not None, bool(skills), window is not None,
                            present_at is not None, bool(exclude), limit is not None)
    params: dict[str, Any] = {"locality": locality, "team": team, "skills": list(skills),
                              "exclude": list(exclude), "present_at": present_at,
                              "limit": limit}
    if window is not None:
        params["w_start"], params["w_end"] = window
    rows = (await session.execute(stmt, params)).all()
    return [(_worker_row(row), bool(row._mapping["on_shift"])) for row in rows]


@functools.lru_cache(maxsize=128)
def _candidates_stmt(both: bool, has_team: bool, has_skills: bool, has_window: bool,
                     has_present: bool, has_exclude: bool, limited: bool) -> Select[Any]:
    """The candidate query for one shape of request, built once (values are bound)."""
    tag = KeyWorkerArea
    on_shift: ColumnElement[int] = literal(0)
    order: list[Any]
    stmt: Select[Any]
    if both:
        # Small tier: walk the team's index rows, probe the locality's; per-row subqueries
        # count skills and shifts through their indexes.
        t, loc, sk = aliased(tag), aliased(tag), aliased(tag)
        stmt = (select(*WORKER_COLUMNS)
                .join(t, and_(t.keyworker_id == KeyWorker.id, t.kind == "team",
                              t.value == bindparam("team")))
                .join(loc, and_(loc.keyworker_id == KeyWorker.id, loc.kind == "locality",
                                loc.value == bindparam("locality"))))
        skills_col: ColumnElement[int] = literal(0)
        if has_skills:
            skills_col = (select(func.count()).where(
                sk.keyworker_id == KeyWorker.id, sk.kind == "skill",
                sk.value.in_(bindparam("skills", expanding=True))).scalar_subquery())
        if has_window:
            on_shift = case((exists().where(Shift.keyworker_id == KeyWorker.id,
                                            Shift.ends_at > bindparam("w_start"),
                                            Shift.starts_at < bindparam("w_end")), 1), else_=0)
        stmt = stmt.add_columns(skills_col.label("skill_count"))
        order = [desc("skill_count")]  # every row here serves both locality and team
    else:
        wanted = [and_(tag.kind == "locality", tag.value == bindparam("locality"))]
        if has_team:
            wanted.append(and_(tag.kind == "team", tag.value == bindparam("team")))
        if has_skills:
            wanted.append(and_(tag.kind == "skill",
                               tag.value.in_(bindparam("skills", expanding=True))))
        area = func.sum(case((tag.kind.in_(("locality", "team")), 1), else_=0))
        skill = func.sum(case((tag.kind == "skill", 1), else_=0))
        scores = (select(tag.keyworker_id.label("kid"), area.label("area"),
                         skill.label("skills"))
                  .where(or_(*wanted)).group_by(tag.keyworker_id).having(area > 0).subquery())
        stmt = select(*WORKER_COLUMNS).join(scores, scores.c.kid == KeyWorker.id)
        order = [scores.c.area.desc(), scores.c.skills.desc()]
        if has_window:
            working = (select(Shift.keyworker_id.label("kid")).distinct()
                       .where(Shift.ends_at > bindparam("w_start"),
                              Shift.starts_at < bindparam("w_end"))
                       .subquery())
            stmt = stmt.outerjoin(working, working.c.kid == KeyWorker.id)
            on_shift = case((working.c.kid.is_(None), 0), else_=1)
    stmt = (stmt.add_columns(on_shift.label("on_shift"))
            .where(KeyWorker.active.is_(True), KeyWorker.caseload < KeyWorker.max_caseload)
            .order_by(*order, desc("on_shift"),
                      (KeyWorker.max_caseload - KeyWorker.caseload).desc(),
                      KeyWorker.last_assigned_at.asc().nulls_first(), KeyWorker.id))
    if has_present:
        stmt = stmt.where(~exists().where(Absence.keyworker_id == KeyWorker.id,
                                          Absence.ends_at > bindparam("present_at"),
                                          Absence.starts_at <= bindparam("present_at")))
    if has_exclude:
        stmt = stmt.where(KeyWorker.id.not_in(bindparam("exclude", expanding=True)))
    if limited:
        stmt = stmt.limit(bindparam("limit"))
    return stmt


async def take_capacity(session: AsyncSession, keyworker_id: str, now: datetime,
                        *, over_cap: bool = False) -> bool:
    """Atomically add one to a worker's caseload if below the maximum (or regardless)."""
    stmt = _TAKE_ANY if over_cap else _TAKE
    result: CursorResult[object] = await session.execute(  # type: ignore[assignment]
        stmt, {"kid": keyworker_id, "now": now})
    return result.rowcount == 1


async def recount_caseload(session: AsyncSession, keyworker_id: str) -> None:
    """Set the worker's caseload to the people they hold now, after a referral left them.

    A recount rather than a decrement: a caseload counts people, and a person with several
    open referrals with the worker holds one place until the last of them leaves. On
    PostgreSQL the worker's row is locked first, so that the count (a new statement, a new
    snapshot) sees every assignment committed by a transaction that held the lock.
    """
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_LOCK_WORKER, {"kid": keyworker_id})
    await session.execute(_RECOUNT, {"kid": keyworker_id})


async def lock_person(session: AsyncSession, person_id: str | None) -> None:
    """Serialise assignments of one person (PostgreSQL; SQLite has one writer at a time), so
    that two referrals of the same person arriving together see each other's key worker."""
    if person_id is None or session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(person_id.encode(), digest_size=8, person=b"lw-person").digest()
    await session.execute(_LOCK_PERSON, {"key": int.from_bytes(digest, "big", signed=True)})


# Capacity statements on the table itself, built once: loaded workers were never
# synchronised with them, so the ORM's bulk-update path added only bookkeeping.
_kw = cast(Table, KeyWorker.__table__)
_TAKE_ANY = (update(_kw).where(_kw.c.id == bindparam("kid"), _kw.c.active.is_(True))
             .values(caseload=_kw.c.caseload + 1,
                     last_assigned_at=bindparam("now", type_=_kw.c.last_assigned_at.type)))
_TAKE = _TAKE_ANY.where(_kw.c.caseload < _kw.c.max_caseload)
_held = cast(Table, Assignment.__table__)
_RECOUNT = (update(_kw).where(_kw.c.id == bindparam("kid")).values(caseload=(
    select(func.count(distinct(func.coalesce(_held.c.person_id, _held.c.referral_id))))
    .where(_held.c.keyworker_id == bindparam("kid"), _held.c.status.in_(HELD))
    .scalar_subquery())))
_LOCK_WORKER = select(_kw.c.id).where(_kw.c.id == bindparam("kid")).with_for_update()
_LOCK_PERSON = select(func.pg_advisory_xact_lock(bindparam("key")))


async def person_context(session: AsyncSession, referral_id: str, person_id: str | None,
                         now: datetime, window: tuple[datetime, datetime] | None, *,
                         new: bool = True) -> PersonContext:
    """Whether the (`new`) referral is assigned already, the person's key person, who holds
    the person's other open referrals, and that worker's facts (absent at `now`, on shift in
    `window`): one round trip of primary-key and indexed lookups instead of one per
    question."""
    stmt = _context_stmt(new, window is not None)
    params: dict[str, Any] = {"referral_id": referral_id, "person_id": person_id, "now": now}
    if window is not None:
        params["w_start"], params["w_end"] = window
    row = (await session.execute(stmt, params)).one()
    m = row._mapping
    key_worker = None
    if m["id"] is not None:
        key_worker = KeyWorkerNow(_worker_row(row), bool(m["absent"]), bool(m["on_shift"]))
    return PersonContext(bool(m["assigned"]), m["link_kid"], key_worker, m["holder_kid"],
                         bool(m["link_holds"]))


def _holding(person_id: Any, referral_id: Any) -> list[ColumnElement[bool]]:
    """Open referrals of the person, other than `referral_id`, that a key worker holds (a
    duty coordinator holding one nobody fitted is not the person's worker)."""
    return [Assignment.person_id == person_id, Assignment.status.in_(HELD),
            Assignment.keyworker_id.is_not(None), Assignment.via != "duty_coordinator",
            Assignment.referral_id != referral_id]


async def holders_of(session: AsyncSession, person_id: str,
                     referral_id: str = "") -> frozenset[str]:
    """Workers holding an open referral of the person (other than `referral_id`)."""
    rows = await session.scalars(select(Assignment.keyworker_id).distinct().where(
        *_holding(person_id, referral_id)))
    return frozenset(r for r in rows if r is not None)


async def key_worker_now(session: AsyncSession, keyworker_id: str, now: datetime,
                         window: tuple[datetime, datetime] | None) -> KeyWorkerNow | None:
    """One worker's facts read again (absent at `now`, on shift in `window`)."""
    stmt = _worker_now_stmt(window is not None)
    params: dict[str, Any] = {"keyworker_id": keyworker_id, "now": now}
    if window is not None:
        params["w_start"], params["w_end"] = window
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return None
    return KeyWorkerNow(_worker_row(row), bool(row._mapping["absent"]),
                        bool(row._mapping["on_shift"]))


def _now_columns(has_window: bool) -> list[ColumnElement[Any]]:
    """Whether the worker is absent at :now and on shift in [:w_start, :w_end)."""
    absent = exists().where(Absence.keyworker_id == KeyWorker.id,
                            Absence.ends_at > bindparam("now"),
                            Absence.starts_at <= bindparam("now"))
    on_shift: ColumnElement[bool] = false()
    if has_window:
        on_shift = exists().where(Shift.keyworker_id == KeyWorker.id,
                                  Shift.ends_at > bindparam("w_start"),
                                  Shift.starts_at < bindparam("w_end"))
    return [absent.label("absent"), on_shift.label("on_shift")]


@functools.lru_cache(maxsize=8)
def _context_stmt(has_referral: bool, has_window: bool) -> Select[Any]:
    assigned: ColumnElement[bool] = false()
    if has_referral:
        assigned = exists().where(Assignment.referral_id == bindparam("referral_id"))
    one = select(literal(1).label("one")).subquery("one")
    link = and_(KeyPersonLink.person_id == bindparam("person_id"),
                KeyPersonLink.ended_at.is_(None))
    holding = _holding(bindparam("person_id"), bindparam("referral_id"))
    # Accepted before offered, then the most recently changed: the worker the person has.
    holder = (select(Assignment.keyworker_id.label("kid")).where(*holding)
              .order_by(case((Assignment.status == "accepted", 0), else_=1),
                        Assignment.updated_at.desc(), Assignment.id)
              .limit(1).subquery("holder"))
    link_holds = exists().where(*holding, Assignment.keyworker_id == KeyPersonLink.keyworker_id)
    # The worker read is the key person, or (with none) the worker holding the person.
    return (select(*WORKER_COLUMNS, *_now_columns(has_window), assigned.label("assigned"),
                   KeyPersonLink.keyworker_id.label("link_kid"), holder.c.kid.label("holder_kid"),
                   link_holds.label("link_holds"))
            .select_from(one.outerjoin(KeyPersonLink, link).outerjoin(holder, true())
                         .outerjoin(KeyWorker, KeyWorker.id == func.coalesce(
                             KeyPersonLink.keyworker_id, holder.c.kid))))


@functools.lru_cache(maxsize=4)
def _worker_now_stmt(has_window: bool) -> Select[Any]:
    return (select(*WORKER_COLUMNS, *_now_columns(has_window))
            .where(KeyWorker.id == bindparam("keyworker_id")))
