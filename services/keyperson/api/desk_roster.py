"""The key worker roster for coordinators and admins signed in to the desk (key workers and
keys get 403): the workers with their caseload and absences, adding and editing one
(localities, teams, skills, maximum caseload, taken off the roster), and absences added or
cancelled. The staff API's own handlers answer, so the rules and effects are the same: a
phone for one active worker only, localities and teams routing gives, open referrals moved
on when a worker leaves or is away, waiting referrals tried again."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel
from sqlalchemy import select

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep, kit_of
from services.keyperson import repository as repo
from services.keyperson.api import roster
from services.keyperson.areas import AREAS
from services.keyperson.models import Absence, KeyWorker
from services.keyperson.schemas import (
    AbsenceCreate,
    AbsenceRead,
    KeyWorkerCreate,
    KeyWorkerRead,
    KeyWorkerUpdate,
)

router = APIRouter(prefix="/api/v1/desk/keyworkers", include_in_schema=False)


class RosterWorker(KeyWorkerRead):
    absences: list[AbsenceRead]


class Roster(BaseModel):
    workers: list[RosterWorker]
    localities: list[str]
    teams: list[str]


@router.get("", response_model=Roster)
async def roster_list(request: Request, session: SessionDep, _: CoordinatorDep,
                      clock: ClockDep) -> Roster:
    """Everyone on the roster by name (those taken off it last), each with their absences
    that have not ended, and the localities and teams routing gives (to choose from)."""
    now = clock.now()
    workers = sorted(await repo.list_keyworkers(session), key=lambda w: (not w.active, w.name))
    away: dict[str, list[AbsenceRead]] = {}
    for a in await session.scalars(select(Absence).where(Absence.ends_at > now)
                                   .order_by(Absence.starts_at, Absence.id)):
        away.setdefault(a.keyworker_id, []).append(AbsenceRead.model_validate(a))
    areas = kit_of(request).extras[AREAS].current()
    return Roster(workers=[RosterWorker(**KeyWorkerRead.model_validate(w).model_dump(),
                                        absences=away.get(w.id, [])) for w in workers],
                  localities=sorted(areas.localities), teams=sorted(areas.teams))


@router.get("/{keyworker_id}", response_model=KeyWorkerRead)
async def one(keyworker_id: str, session: SessionDep, actor: CoordinatorDep) -> KeyWorker:
    return await roster.get_keyworker(keyworker_id, session, actor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyWorkerRead)
async def add(body: KeyWorkerCreate, request: Request, session: SessionDep,
              actor: CoordinatorDep, clock: ClockDep) -> KeyWorker:
    return await roster.create_keyworker(body, request, session, actor, clock)


@router.patch("/{keyworker_id}", response_model=KeyWorkerRead)
async def edit(keyworker_id: str, body: KeyWorkerUpdate, request: Request, session: SessionDep,
               actor: CoordinatorDep, clock: ClockDep) -> KeyWorker:
    return await roster.update_keyworker(keyworker_id, body, request, session, actor, clock)


@router.post("/{keyworker_id}/absences", status_code=status.HTTP_201_CREATED,
             response_model=AbsenceRead)
async def add_absence(keyworker_id: str, body: AbsenceCreate, session: SessionDep,
                      actor: CoordinatorDep, clock: ClockDep) -> AbsenceRead:
    return await roster.add_absence(keyworker_id, body, session, actor, clock)


@router.delete("/{keyworker_id}/absences/{absence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_absence(keyworker_id: str, absence_id: str, session: SessionDep,
                         actor: CoordinatorDep, clock: ClockDep) -> None:
    await roster.delete_absence(keyworker_id, absence_id, session, actor, clock)
