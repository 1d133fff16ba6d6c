"""The duty rota: shifts put on and taken off, who is on duty now in dial order, the key
worker a person's call is put through to, and which hours of the coming days nobody covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import NotFound, invalid
from services.common.ids import new_id
from services.keyperson import repository as repo
from services.keyperson import waiting
from services.keyperson.areas import AreaBook
from services.keyperson.models import AuditEntry, KeyWorker, Shift
from services.keyperson.rota import ESCALATION, Interval, uncovered
from services.keyperson.schemas import ShiftCreate

DEFAULT_LOCALITIES = ("north", "south_west", "south_east")
COVERED_ROLES = ("crisis_duty", "duty_coordinator", "backup_manager")
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class OnDutyEntry:
    shift: Shift
    worker: KeyWorker


async def add_shift_and_retry_waiting(session: AsyncSession, areas: AreaBook,
                                      body: ShiftCreate, actor: Actor,
                                      now: datetime) -> Shift:
    """Put an active worker on the rota for one shift (its locality and team ones routing
    gives). Unless it is over already, a timer at its start (now, if it has started) tries
    the referrals waiting for a key worker again."""
    areas.refuse_unknown(body.model_dump())
    worker = await repo.get_keyworker(session, body.keyworker_id)
    if worker is None or not worker.active:
        raise invalid(["keyworker_id"], "no active key worker with that id")
    shift = Shift(id=new_id(), created_at=now, **body.model_dump())
    repo.add(session, shift)
    if shift.ends_at > now:
        waiting.queue_retry(session, now,
                            delay=max((shift.starts_at - now).total_seconds(), 0.0),
                            key=f"shift:{shift.id}:starts")
    audit(session, AuditEntry, actor, "create", "shift", shift.id, now)
    return shift


async def remove_shift(session: AsyncSession, shift_id: str, actor: Actor,
                       now: datetime) -> None:
    """Take a shift off the rota; 404 when there is none with that id."""
    shift = await repo.get_shift(session, shift_id)
    if shift is None:
        raise NotFound("shift")
    await repo.remove(session, shift)
    audit(session, AuditEntry, actor, "delete", "shift", shift_id, now)


async def key_worker_to_call(session: AsyncSession, person_id: str,
                             now: datetime) -> tuple[KeyWorker, bool] | None:
    """The worker a person's call is put through to, and whether they are on shift now:
    their key person, else whoever holds their latest open referral (cover while the key
    person is away); None when neither is active and present."""
    absent = await repo.absent_now(session, now)
    ids: list[str] = []
    link = await repo.link_for(session, person_id)
    if link is not None:
        ids.append(link.keyworker_id)
    latest = await repo.latest_open_assignment(session, person_id)
    if latest is not None and latest.keyworker_id is not None:
        ids.append(latest.keyworker_id)
    workers = await repo.workers_by_ids(session, ids)
    for worker_id in ids:
        worker = workers.get(worker_id)
        if worker is not None and worker.active and worker.id not in absent:
            on_duty = await repo.on_shift_between(session, [worker.id], now, now + _INSTANT)
            return worker, bool(on_duty)
    return None


async def on_duty(session: AsyncSession, roles: Sequence[str], now: datetime,
                  locality: str | None = None) -> list[OnDutyEntry]:
    """Active, present workers on shift now in `roles`, in dial order.

    Order: the roles as given; within a role, a shift for the asked locality first, then
    borough-wide shifts, then other localities; then whoever started earliest.
    """
    shifts = await repo.shifts_overlapping(session, roles, now, now + _INSTANT)
    workers = await repo.workers_by_ids(session, [s.keyworker_id for s in shifts])
    absent = await repo.absent_now(session, now)

    def order(s: Shift) -> tuple[object, ...]:
        place = 0 if locality is not None and s.locality == locality else (
            1 if s.locality is None else 2)
        return (list(roles).index(s.role), place, s.starts_at, s.keyworker_id, s.id)

    entries = []
    for shift in sorted(shifts, key=order):
        worker = workers.get(shift.keyworker_id)
        if worker is not None and worker.active and worker.id not in absent:
            entries.append(OnDutyEntry(shift, worker))
    return entries


async def dial_numbers(session: AsyncSession, role: str, now: datetime,
                       locality: str | None = None, fallback: bool = True) -> list[str]:
    """Numbers to dial for `role` now, then (with fallback) the roles it escalates to."""
    roles = ESCALATION.get(role, (role,)) if fallback else (role,)
    seen: dict[str, None] = {}
    for entry in await on_duty(session, roles, now, locality):
        seen.setdefault(entry.worker.phone, None)
    return list(seen)


async def coverage(session: AsyncSession, roles: Sequence[str], localities: Sequence[str],
                   start: datetime, end: datetime) -> list[tuple[str, str, list[Interval]]]:
    """(role, locality, uncovered intervals) for each pair, over [start, end).

    A borough-wide shift (no locality) covers every locality. Shifts of inactive workers
    cover nothing; absences inside a shift are holes in it.
    """
    shifts = await repo.shifts_overlapping(session, roles, start, end)
    workers = await repo.workers_by_ids(session, [s.keyworker_id for s in shifts])
    holes = await _absences(session, [s.keyworker_id for s in shifts], start, end)
    out = []
    for role in roles:
        for locality in localities:
            covered: list[Interval] = []
            for s in shifts:
                worker = workers.get(s.keyworker_id)
                if (s.role != role or worker is None or not worker.active
                        or (s.locality is not None and s.locality != locality)):
                    continue
                covered.extend(uncovered(holes.get(s.keyworker_id, []), s.starts_at, s.ends_at))
            out.append((role, locality, uncovered(covered, start, end)))
    return out


async def _absences(session: AsyncSession, ids: Sequence[str], start: datetime,
                    end: datetime) -> dict[str, list[Interval]]:
    out: dict[str, list[Interval]] = {}
    for absence in await repo.absences_overlapping(session, ids, start, end):
        out.setdefault(absence.keyworker_id, []).append((absence.starts_at, absence.ends_at))
    return out
