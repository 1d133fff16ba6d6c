"""The key worker roster for coordinators and admins signed in to the desk (key workers and
keys get 403): the workers with their caseload and absences, adding and editing one
(localities, teams, skills, maximum caseload, taken off the roster), and absences added or
cancelled. The staff API's own domain functions answer, so the rules and effects are the same: a
phone for one active worker only, localities and teams routing gives, open referrals moved
on when a worker leaves or is away, waiting referrals tried again."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.keyperson import roster
from services.keyperson.deps import KeypersonDep
from services.keyperson.models import KeyWorker
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
async def roster_list(own: KeypersonDep, session: SessionDep, _: CoordinatorDep,
                      clock: ClockDep) -> Roster:
    """Everyone on the roster by name (those taken off it last), each with their absences
    that have not ended, and the localities and teams routing gives (to choose from)."""
    listed = await roster.roster_with_absences(session, clock.now())
    areas = own.areas.current()
    return Roster(workers=[RosterWorker(**KeyWorkerRead.model_validate(w).model_dump(),
                                        absences=[AbsenceRead.model_validate(a) for a in away])
                           for w, away in listed],
                  localities=sorted(areas.localities), teams=sorted(areas.teams))


@router.get("/{keyworker_id}", response_model=KeyWorkerRead)
async def one(keyworker_id: str, session: SessionDep, _: CoordinatorDep) -> KeyWorker:
    return await roster.get_worker(session, keyworker_id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyWorkerRead)
async def add(body: KeyWorkerCreate, own: KeypersonDep, session: SessionDep,
              actor: CoordinatorDep, clock: ClockDep) -> KeyWorker:
    return await roster.add_worker_and_reassign(session, own.areas, body, actor, clock.now())


@router.patch("/{keyworker_id}", response_model=KeyWorkerRead)
async def edit(keyworker_id: str, body: KeyWorkerUpdate, own: KeypersonDep,
               session: SessionDep, actor: CoordinatorDep, clock: ClockDep) -> KeyWorker:
    return await roster.update_worker_and_reassign(session, own.areas, keyworker_id, body,
                                                   actor, clock.now())


@router.post("/{keyworker_id}/absences", status_code=status.HTTP_201_CREATED,
             response_model=AbsenceRead)
async def add_absence(keyworker_id: str, body: AbsenceCreate, session: SessionDep,
                      actor: CoordinatorDep, clock: ClockDep) -> AbsenceRead:
    absence, moved = await roster.add_absence_and_reassign(session, keyworker_id, body, actor,
                                                           clock.now())
    return AbsenceRead.model_validate(absence).model_copy(update={"reassigned": moved})


@router.delete("/{keyworker_id}/absences/{absence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_absence(keyworker_id: str, absence_id: str, session: SessionDep,
                         actor: CoordinatorDep, clock: ClockDep) -> None:
    await roster.cancel_absence_and_reassign(session, keyworker_id, absence_id, actor,
                                             clock.now())
