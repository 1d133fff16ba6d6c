"""The 24/7 duty rota (staff keys): shifts, who is on duty now, and uncovered hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.common.errors import invalid
from services.keyperson import duty
from services.keyperson import repository as repo
from services.keyperson.deps import KeypersonDep
from services.keyperson.models import Shift
from services.keyperson.rota import DUTY_ROLES, DutyRole, hours, to_london, to_utc
from services.keyperson.schemas import Coverage, Gap, OnDuty, ShiftCreate, ShiftRead

router = APIRouter(prefix="/api/v1/rota", tags=["duty rota"])
MAX_WINDOW = timedelta(days=31)


def shift_read(s: Shift) -> ShiftRead:
    """A shift as staff read it: UTC and London wall time side by side."""
    return ShiftRead(id=s.id, keyworker_id=s.keyworker_id, role=s.role, locality=s.locality,
                     team=s.team, starts_at=s.starts_at, ends_at=s.ends_at,
                     starts_local=to_london(s.starts_at), ends_local=to_london(s.ends_at),
                     hours=hours([(s.starts_at, s.ends_at)]))


@router.post("/shifts", status_code=status.HTTP_201_CREATED, response_model=ShiftRead)
async def create_shift(body: ShiftCreate, own: KeypersonDep, session: SessionDep,
                       actor: StaffDep, clock: ClockDep) -> ShiftRead:
    """Put a worker on the rota for one shift (at most 24 hours). Times with an offset are
    taken as given; times without one are London wall time, so `2027-03-28T00:00` to
    `2027-03-28T08:00` is a 7-hour night across the spring clock change. Everything is
    stored and returned in UTC, with the London time alongside. When the shift starts,
    referrals still waiting for a key worker are tried again."""
    return shift_read(await duty.add_shift_and_retry_waiting(session, own.areas, body, actor,
                                                             clock.now()))


@router.get("/shifts", response_model=list[ShiftRead])
async def list_shifts(session: SessionDep, _: StaffDep, clock: ClockDep,
                      role: DutyRole | None = None,
                      starts: Annotated[datetime | None, Query(alias="from")] = None,
                      ends: Annotated[datetime | None, Query(alias="to")] = None,
                      ) -> list[ShiftRead]:
    """Shifts overlapping a window (`from`/`to`, default the next 7 days, at most 31),
    earliest first."""
    start = to_utc(starts) if starts else clock.now()
    end = to_utc(ends) if ends else start + timedelta(days=7)
    if end <= start or end - start > MAX_WINDOW:
        raise invalid(["query", "to"], "`to` must be after `from` and at most 31 days later")
    roles = (role,) if role else DUTY_ROLES
    return [shift_read(s) for s in await repo.shifts_overlapping(session, roles, start, end)]


@router.delete("/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_shift(shift_id: str, session: SessionDep, actor: StaffDep,
                       clock: ClockDep) -> None:
    """Take a shift off the rota."""
    await duty.remove_shift(session, shift_id, actor, clock.now())


@router.get("/on-duty", response_model=list[OnDuty])
async def who_is_on_duty(session: SessionDep, _: StaffDep, clock: ClockDep,
                         role: DutyRole | None = None,
                         locality: str | None = None) -> list[OnDuty]:
    """Who is on duty now (absent and deactivated workers left out), in dial order: a shift
    for `locality` first, then borough-wide shifts, then the rest."""
    roles = (role,) if role else DUTY_ROLES
    entries = await duty.on_duty(session, roles, clock.now(), locality)
    return [OnDuty(keyworker_id=e.worker.id, name=e.worker.name, phone=e.worker.phone,
                   role=e.shift.role, locality=e.shift.locality, team=e.shift.team,
                   starts_at=e.shift.starts_at, ends_at=e.shift.ends_at) for e in entries]


@router.get("/gaps", response_model=list[Coverage])
async def uncovered_hours(session: SessionDep, _: StaffDep, clock: ClockDep,
                          role: DutyRole | None = None, locality: str | None = None,
                          days: Annotated[int, Query(ge=1, le=31)] = 7) -> list[Coverage]:
    """Hours in the next `days` days (default 7) when nobody is on duty, for each duty role
    (crisis duty, duty coordinator, backup manager) and locality, so a gap is seen before it
    happens. Absences and deactivated workers open gaps; hours are real elapsed hours."""
    now = clock.now().replace(second=0, microsecond=0)  # whole minutes read better
    roles = (role,) if role else duty.COVERED_ROLES
    localities = (locality,) if locality else duty.DEFAULT_LOCALITIES
    report = await duty.coverage(session, roles, localities, now, now + timedelta(days=days))
    return [Coverage(role=r, locality=loc, uncovered_hours=hours(gaps),
                     gaps=[Gap(starts_at=s, ends_at=e, starts_local=to_london(s),
                               ends_local=to_london(e), hours=hours([(s, e)]))
                           for s, e in gaps])
            for r, loc, gaps in report]
