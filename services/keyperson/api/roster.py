"""The key worker roster and absences (staff keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from sqlalchemy.exc import IntegrityError

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep, StaffDep, kit_of
from services.common.errors import NotFound, ProblemError
from services.common.ids import new_id
from services.keyperson import assignment, outbound, waiting
from services.keyperson import repository as repo
from services.keyperson.areas import AREAS, AreaBook
from services.keyperson.models import Absence, AuditEntry, KeyWorker
from services.keyperson.schemas import (
    AbsenceCreate,
    AbsenceRead,
    KeyWorkerCreate,
    KeyWorkerRead,
    KeyWorkerUpdate,
)

router = APIRouter(prefix="/api/v1/keyworkers", tags=["key workers"])


async def _worker(session: SessionDep, keyworker_id: str) -> KeyWorker:
    worker = await repo.get_keyworker(session, keyworker_id)
    if worker is None:
        raise NotFound("key worker")
    return worker


# Fields whose change may let a waiting referral fit this worker now.
_FITS = frozenset({"localities", "teams", "max_caseload", "active"})


def check_areas(request: Request, changes: dict[str, Any]) -> None:
    """Refuse a locality or team that routing never gives a referral: a typo would leave
    the worker (or a shift) without work for ever. Every unknown value is named; a shift's
    single `locality` or `team` is named without a position."""
    book: AreaBook = kit_of(request).extras[AREAS]
    errors: list[dict[str, Any]] = [
        {"loc": [name, i], "msg": msg} for name in ("localities", "teams")
        for i, msg in book.unknown(name, changes.get(name) or [])]
    for one, many in (("locality", "localities"), ("team", "teams")):
        if changes.get(one) is not None:
            errors += [{"loc": [one], "msg": msg}
                       for _, msg in book.unknown(many, [changes[one]])]
    if errors:
        raise ProblemError(422, "validation-error", "Invalid request",
                           "; ".join(str(e["msg"]) for e in errors), errors)


def _phone_taken() -> ProblemError:
    msg = ("another active key worker has this mobile: replies from it could not be told "
           "apart")
    return ProblemError(409, "phone-in-use", "Conflict", msg, [{"loc": ["phone"], "msg": msg}])


async def _flush_phone(session: SessionDep) -> None:
    """Write now, so that a concurrent worker with the same mobile (the database's unique
    index on active workers' phones) is refused as such, not as a generic conflict."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "phone" in str(exc.orig).lower():
            raise _phone_taken() from exc
        raise


PHONE_TAKEN: dict[int | str, dict[str, Any]] = {409: {
    "description": "Another active key worker has this mobile (`errors` names `phone`), or a "
                   "concurrent change."}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyWorkerRead,
             responses=PHONE_TAKEN)
async def create_keyworker(body: KeyWorkerCreate, request: Request, session: SessionDep,
                           actor: StaffDep, clock: ClockDep) -> KeyWorker:
    """Add a key worker to the roster. The mobile number is stored in E.164 and belongs to
    one active worker only (409 naming `phone` otherwise: their reply codes would mix);
    `localities` and `teams` decide which referrals the worker is considered for and must be
    ones routing gives (422 naming the field otherwise); `skills` (such as `lang:pl`) are
    matched against what a referral needs. Referrals waiting for a key worker are then
    tried again."""
    check_areas(request, body.model_dump())
    if await repo.phone_in_use(session, body.phone):
        raise _phone_taken()
    now = clock.now()
    worker = KeyWorker(id=new_id(), caseload=0, active=True, last_assigned_at=None,
                       created_at=now, updated_at=now, **body.model_dump())
    repo.add(session, worker)
    await _flush_phone(session)
    await repo.set_areas(session, worker)
    audit(session, AuditEntry, actor, "create", "keyworker", worker.id, now)
    waiting.soon(session, now)
    return worker


@router.get("", response_model=list[KeyWorkerRead])
async def list_keyworkers(session: SessionDep, _: StaffDep,
                          active_only: bool = False) -> list[KeyWorker]:
    """The whole roster, by name (deactivated workers too unless `active_only=true`)."""
    return list(await repo.list_keyworkers(session, active_only=active_only))


@router.get("/{keyworker_id}", response_model=KeyWorkerRead)
async def get_keyworker(keyworker_id: str, session: SessionDep, _: StaffDep) -> KeyWorker:
    """One key worker, with their current caseload."""
    return await _worker(session, keyworker_id)


@router.patch("/{keyworker_id}", response_model=KeyWorkerRead, responses=PHONE_TAKEN)
async def update_keyworker(keyworker_id: str, body: KeyWorkerUpdate, request: Request,
                           session: SessionDep, actor: StaffDep,
                           clock: ClockDep) -> KeyWorker:
    """Change some fields of a key worker (checked as when adding one). Setting `active` to
    false moves their open referrals to other workers, as `DELETE` does; a change that may
    let a waiting referral fit them has it tried again."""
    now = clock.now()
    worker = await _worker(session, keyworker_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    check_areas(request, changes)
    phone = changes.get("phone") or worker.phone
    active = changes.get("active", worker.active) is not False
    if active and await repo.phone_in_use(session, phone, besides=worker.id):
        raise _phone_taken()
    for name, value in changes.items():
        if value is not None or name == "email":
            setattr(worker, name, value)
    worker.updated_at = now
    if "localities" in changes or "teams" in changes:
        await repo.set_areas(session, worker)
    await _flush_phone(session)
    if changes.get("active") is False:
        await assignment.move_people_of(session, worker.id, now)
    elif _FITS & changes.keys():
        waiting.soon(session, now)
    audit(session, AuditEntry, actor, "update", "keyworker", worker.id, now)
    await session.refresh(worker)
    return worker


@router.delete("/{keyworker_id}", response_model=KeyWorkerRead)
async def deactivate_keyworker(keyworker_id: str, session: SessionDep, actor: StaffDep,
                               clock: ClockDep) -> KeyWorker:
    """Take a worker off the roster: they get no new referrals and their open referrals are
    handed to other workers. The record and its history are kept (`active: false`)."""
    now = clock.now()
    worker = await _worker(session, keyworker_id)
    if worker.active:
        worker.active, worker.updated_at = False, now
        await session.flush()
        await assignment.move_people_of(session, worker.id, now)
        audit(session, AuditEntry, actor, "deactivate", "keyworker", worker.id, now)
    await session.refresh(worker)
    return worker


@router.post("/{keyworker_id}/absences", status_code=status.HTTP_201_CREATED,
             response_model=AbsenceRead)
async def add_absence(keyworker_id: str, body: AbsenceCreate, session: SessionDep,
                      actor: StaffDep, clock: ClockDep) -> AbsenceRead:
    """Record that a worker is away from `starts_at` to `ends_at`. While away they are not
    offered referrals or dialled from the rota. When the absence starts (at once if it already
    has) their open referrals are handed to cover with new handoffs; the person's key person
    stays the same, so continuity returns when the worker is back."""
    now = clock.now()
    worker = await _worker(session, keyworker_id)
    absence = Absence(id=new_id(), keyworker_id=worker.id, kind=body.kind,
                      starts_at=body.starts_at, ends_at=body.ends_at, created_at=now)
    repo.add(session, absence)
    await session.flush()
    moved = 0
    if absence.starts_at <= now < absence.ends_at:
        moved = await assignment.move_people_of(session, worker.id, now)
    elif absence.starts_at > now:
        outbound.absence_timer(session, absence.id, now,
                               (absence.starts_at - now).total_seconds())
    if absence.ends_at > now:  # back at work: what waited for a key worker is tried again
        waiting.soon(session, now, delay=(absence.ends_at - now).total_seconds(),
                     key=f"absence:{absence.id}:ends")
    audit(session, AuditEntry, actor, "create", "absence", absence.id, now)
    return AbsenceRead.model_validate(absence).model_copy(update={"reassigned": moved})


@router.get("/{keyworker_id}/absences", response_model=list[AbsenceRead])
async def list_absences(keyworker_id: str, session: SessionDep,
                        _: StaffDep) -> list[AbsenceRead]:
    """A worker's absences, earliest first."""
    await _worker(session, keyworker_id)
    return [AbsenceRead.model_validate(a) for a in await repo.absences_of(session, keyworker_id)]


@router.delete("/{keyworker_id}/absences/{absence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_absence(keyworker_id: str, absence_id: str, session: SessionDep,
                         actor: StaffDep, clock: ClockDep) -> None:
    """Cancel an absence (the worker is available again). Referrals already handed to
    cover stay with cover; referrals waiting for a key worker are tried again."""
    absence = await repo.get_absence(session, absence_id)
    if absence is None or absence.keyworker_id != keyworker_id:
        raise NotFound("absence")
    now = clock.now()
    await session.delete(absence)
    waiting.soon(session, now)
    audit(session, AuditEntry, actor, "delete", "absence", absence_id, now)
