"""Keyperson's public routes: the key worker roster (staff keys)."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep, StaffDep
from services.common.errors import NotFound
from services.common.ids import new_id
from services.keyperson import repository
from services.keyperson.models import AuditEntry, KeyWorker
from services.keyperson.schemas import KeyWorkerCreate, KeyWorkerRead

router = APIRouter(prefix="/api/v1/keyworkers", tags=["key workers"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyWorkerRead)
async def create_keyworker(body: KeyWorkerCreate, session: SessionDep, actor: StaffDep,
                           clock: ClockDep) -> KeyWorker:
    """Add a key worker to the roster. The mobile number is stored in E.164."""
    now = clock.now()
    worker = KeyWorker(id=new_id(), caseload=0, active=True, created_at=now, updated_at=now,
                       **body.model_dump())
    repository.add(session, worker)
    audit(session, AuditEntry, actor, "create", "keyworker", worker.id, now)
    return worker


@router.get("", response_model=list[KeyWorkerRead])
async def list_keyworkers(session: SessionDep, _: StaffDep) -> list[KeyWorker]:
    """The whole roster, by name."""
    return list(await repository.list_keyworkers(session))


@router.get("/{keyworker_id}", response_model=KeyWorkerRead)
async def get_keyworker(keyworker_id: str, session: SessionDep, _: StaffDep) -> KeyWorker:
    """One key worker."""
    worker = await repository.get_keyworker(session, keyworker_id)
    if worker is None:
        raise NotFound("key worker")
    return worker
