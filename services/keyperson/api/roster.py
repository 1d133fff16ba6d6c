"""The key worker roster and absences (staff keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.keyperson import repository as repo
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

router = APIRouter(prefix="/api/v1/keyworkers", tags=["key workers"])

PHONE_TAKEN: dict[int | str, dict[str, Any]] = {409: {
    "description": "Another active key worker has this mobile (`errors` names `phone`), or a "
                   "concurrent change."}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyWorkerRead,
             responses=PHONE_TAKEN)
async def create_keyworker(body: KeyWorkerCreate, own: KeypersonDep, session: SessionDep,
                           actor: StaffDep, clock: ClockDep) -> KeyWorker:
    """Add a key worker to the roster. The mobile number is stored in E.164 and belongs to
    one active worker only (409 naming `phone` otherwise: their reply codes would mix);
    `localities` and `teams` decide which referrals the worker is considered for and must be
    ones routing gives (422 naming the field otherwise); `skills` (such as `lang:pl`) are
    matched against what a referral needs. Referrals waiting for a key worker are then
    tried again."""
    return await roster.add_worker_and_reassign(session, own.areas, body, actor, clock.now())


@router.get("", response_model=list[KeyWorkerRead])
async def list_keyworkers(session: SessionDep, _: StaffDep,
                          active_only: bool = False) -> list[KeyWorker]:
    """The whole roster, by name (deactivated workers too unless `active_only=true`)."""
    return list(await repo.list_keyworkers(session, active_only=active_only))


@router.get("/{keyworker_id}", response_model=KeyWorkerRead)
async def get_keyworker(keyworker_id: str, session: SessionDep, _: StaffDep) -> KeyWorker:
    """One key worker, with their current caseload."""
    return await roster.get_worker(session, keyworker_id)


@router.patch("/{keyworker_id}", response_model=KeyWorkerRead, responses=PHONE_TAKEN)
async def update_keyworker(keyworker_id: str, body: KeyWorkerUpdate, own: KeypersonDep,
                           session: SessionDep, actor: StaffDep,
                           clock: ClockDep) -> KeyWorker:
    """Change some fields of a key worker (checked as when adding one). Setting `active` to
    false moves their open referrals to other workers, as `DELETE` does; a change that may
    let a waiting referral fit them has it tried again."""
    return await roster.update_worker_and_reassign(session, own.areas, keyworker_id, body,
                                                   actor, clock.now())


@router.delete("/{keyworker_id}", response_model=KeyWorkerRead)
async def deactivate_keyworker(keyworker_id: str, session: SessionDep, actor: StaffDep,
                               clock: ClockDep) -> KeyWorker:
    """Take a worker off the roster: they get no new referrals and their open referrals are
    handed to other workers. The record and its history are kept (`active: false`)."""
    return await roster.deactivate_and_reassign(session, keyworker_id, actor, clock.now())


@router.post("/{keyworker_id}/absences", status_code=status.HTTP_201_CREATED,
             response_model=AbsenceRead)
async def add_absence(keyworker_id: str, body: AbsenceCreate, session: SessionDep,
                      actor: StaffDep, clock: ClockDep) -> AbsenceRead:
    """Record that a worker is away from `starts_at` to `ends_at`. While away they are not
    offered referrals or dialled from the rota. When the absence starts (at once if it already
    has) their open referrals are handed to cover with new handoffs; the person's key person
    stays the same, so continuity returns when the worker is back."""
    absence, moved = await roster.add_absence_and_reassign(session, keyworker_id, body, actor,
                                                           clock.now())
    return AbsenceRead.model_validate(absence).model_copy(update={"reassigned": moved})


@router.get("/{keyworker_id}/absences", response_model=list[AbsenceRead])
async def list_absences(keyworker_id: str, session: SessionDep,
                        _: StaffDep) -> list[AbsenceRead]:
    """A worker's absences, earliest first."""
    return [AbsenceRead.model_validate(a)
            for a in await roster.absences_of(session, keyworker_id)]


@router.delete("/{keyworker_id}/absences/{absence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_absence(keyworker_id: str, absence_id: str, session: SessionDep,
                         actor: StaffDep, clock: ClockDep) -> None:
    """Cancel an absence (the worker is available again). Referrals already handed to
    cover stay with cover; referrals waiting for a key worker are tried again."""
    await roster.cancel_absence_and_reassign(session, keyworker_id, absence_id, actor,
                                             clock.now())
