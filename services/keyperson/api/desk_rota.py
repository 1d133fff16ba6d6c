"""The duty rota as a week for coordinators and admins signed in to the desk (key workers and
keys get 403): every shift of the 7 days from a London date with its worker's name, the
week's gaps per role and locality, and adding or removing a shift with the same rules and
effects as the staff API (the same domain functions, so a shift starting retries waiting
referrals)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.keyperson import duty
from services.keyperson import repository as repo
from services.keyperson.api.rota import shift_read
from services.keyperson.deps import KeypersonDep
from services.keyperson.rota import DUTY_ROLES, LONDON, hours, to_london
from services.keyperson.schemas import ShiftCreate, ShiftRead

router = APIRouter(prefix="/api/v1/desk/rota", include_in_schema=False)
DAYS = 7


class WeekShift(ShiftRead):
    name: str


class WeekGap(BaseModel):
    role: str
    locality: str
    starts_at: datetime
    ends_at: datetime
    starts_local: datetime
    ends_local: datetime
    hours: float


class Week(BaseModel):
    starts: date
    shifts: list[WeekShift]
    gaps: list[WeekGap]
    workers: dict[str, str]
    roles: list[str]
    localities: list[str]


@router.get("", response_model=Week)
async def week(session: SessionDep, _: CoordinatorDep, clock: ClockDep,
               starts: Annotated[date | None, Query(alias="from")] = None) -> Week:
    """The 7 days from `from` (a London date; default today in London)."""
    first = starts or to_london(clock.now()).date()
    start = datetime.combine(first, time(), LONDON)
    end = datetime.combine(first + timedelta(days=DAYS), time(), LONDON)
    shifts = await repo.shifts_overlapping(session, DUTY_ROLES, start, end)
    workers = {w.id: w.name for w in await repo.list_keyworkers(session)}
    report = await duty.coverage(session, duty.COVERED_ROLES, duty.DEFAULT_LOCALITIES, start,
                                 end)
    return Week(
        starts=first,
        shifts=[WeekShift(**shift_read(s).model_dump(),
                          name=workers.get(s.keyworker_id, s.keyworker_id)) for s in shifts],
        gaps=sorted((WeekGap(role=r, locality=loc, starts_at=s, ends_at=e,
                             starts_local=to_london(s), ends_local=to_london(e),
                             hours=hours([(s, e)]))
                     for r, loc, found in report for s, e in found),
                    key=lambda g: (g.starts_at, g.role, g.locality)),
        workers={w.id: w.name for w in await repo.list_keyworkers(session, active_only=True)},
        roles=list(DUTY_ROLES), localities=list(duty.DEFAULT_LOCALITIES))


@router.post("/shifts", status_code=status.HTTP_201_CREATED, response_model=ShiftRead)
async def add_shift(body: ShiftCreate, own: KeypersonDep, session: SessionDep,
                    actor: CoordinatorDep, clock: ClockDep) -> ShiftRead:
    return shift_read(await duty.add_shift_and_retry_waiting(session, own.areas, body, actor,
                                                             clock.now()))


@router.delete("/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_shift(shift_id: str, session: SessionDep, actor: CoordinatorDep,
                       clock: ClockDep) -> None:
    await duty.remove_shift(session, shift_id, actor, clock.now())
