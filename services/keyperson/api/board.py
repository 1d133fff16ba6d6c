"""The Hub board's rota and assignment steps, for coordinators and admins signed in to the
desk (key workers and keys get 403): who is on duty now per role and locality, the rota's
gaps in the next 7 days, a referral's ranked candidates with their reasons, and giving a
referral to a chosen key worker or offering it to the next."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.common.audit import audit
from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import Conflict, NotFound, invalid
from services.keyperson import assignment, duty, outbound
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, AuditEntry
from services.keyperson.repository import WorkerRow
from services.keyperson.rota import hours

router = APIRouter(prefix="/api/v1/desk/board", include_in_schema=False)
GAP_DAYS = 7


class DutyNow(BaseModel):
    role: str
    locality: str | None
    keyworker_id: str
    name: str
    phone: str
    ends_at: datetime


class GapRead(BaseModel):
    role: str
    locality: str
    starts_at: datetime
    ends_at: datetime
    hours: float


class RotaBoard(BaseModel):
    on_duty: list[DutyNow]
    gaps: list[GapRead]
    workers: dict[str, str] = Field(description="Active key workers' names by id.")


@router.get("", response_model=RotaBoard)
async def rota_board(session: SessionDep, _: CoordinatorDep, clock: ClockDep) -> RotaBoard:
    now = clock.now().replace(second=0, microsecond=0)
    entries = await duty.on_duty(session, duty.COVERED_ROLES, clock.now())
    report = await duty.coverage(session, duty.COVERED_ROLES, duty.DEFAULT_LOCALITIES, now,
                                 now + timedelta(days=GAP_DAYS))
    gaps = [GapRead(role=role, locality=loc, starts_at=s, ends_at=e, hours=hours([(s, e)]))
            for role, loc, found in report for s, e in found]
    workers = await repo.list_keyworkers(session, active_only=True)
    return RotaBoard(
        on_duty=[DutyNow(role=e.shift.role, locality=e.shift.locality, keyworker_id=e.worker.id,
                         name=e.worker.name, phone=e.worker.phone, ends_at=e.shift.ends_at)
                 for e in entries],
        gaps=sorted(gaps, key=lambda g: (g.starts_at, g.role, g.locality)),
        workers={w.id: w.name for w in workers})


class Candidates(BaseModel):
    reference: str
    status: str
    keyworker_id: str | None
    via: str
    reasons: list[str]
    candidates: list[dict[str, Any]]
    excluded: list[dict[str, str]]


async def _assignment(session: SessionDep, referral_id: str, lock: bool = False) -> Assignment:
    a = await repo.assignment_for(session, referral_id, for_update=lock)
    if a is None:
        raise NotFound("assignment for that referral")
    return a


@router.get("/referrals/{referral_id}/candidates", response_model=Candidates)
async def candidates(referral_id: str, session: SessionDep, actor: CoordinatorDep,
                     clock: ClockDep) -> Candidates:
    """Who holds the referral now and by which rule, and who would be ranked for it now
    (best first, each with the reasons), with the workers left out and why. Changes nothing."""
    a = await _assignment(session, referral_id)
    now = clock.now()
    need, _, _ = await assignment.settle_need(session, a, now)
    choice = await assignment.choose(session, need, now, a.respond_by, dry_run=True)
    ranked = choice.ranking.ordered[:assignment.TOP]
    names = await repo.workers_by_ids(
        session, [c.keyworker_id for c in ranked] + list(choice.ranking.excluded))
    audit(session, AuditEntry, actor, "read_candidates", "assignment", a.id, now)
    return Candidates(
        reference=a.reference, status=a.status, keyworker_id=a.keyworker_id, via=a.via,
        reasons=list(a.reasons or []),
        candidates=[{**c.as_dict(i + 1), "name": _name(names, c.keyworker_id)}
                    for i, c in enumerate(ranked)],
        excluded=[{"keyworker_id": k, "name": _name(names, k), "why": why}
                  for k, why in choice.ranking.excluded.items()])


def _name(workers: dict[str, Any], keyworker_id: str) -> str:
    worker = workers.get(keyworker_id)
    return str(worker.name) if worker is not None else keyworker_id


class AssignTo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyworker_id: str = Field(min_length=1, max_length=36)


@router.post("/referrals/{referral_id}/assign")
async def assign_to(referral_id: str, body: AssignTo, session: SessionDep,
                    actor: CoordinatorDep, clock: ClockDep) -> dict[str, Any]:
    """Give the referral to the chosen key worker: whoever holds it lets go and the chosen
    worker gets a new handoff (notify closes the earlier one as reassigned). The worker must
    be active, present and below their maximum caseload."""
    now = clock.now()
    a = await _assignment(session, referral_id, lock=True)
    if a.status == "closed":
        raise Conflict("This referral is closed.", slug="referral-closed")
    worker = await repo.get_keyworker(session, body.keyworker_id)
    if worker is None or not worker.active:
        raise invalid(["body", "keyworker_id"], "no active key worker with that id")
    if worker.id in await repo.absent_now(session, now):
        raise invalid(["body", "keyworker_id"], "this key worker is absent now")
    if a.keyworker_id == worker.id and a.status in repo.HELD:
        return {"keyworker_id": a.keyworker_id, "status": a.status, "attempt": a.attempt}
    await assignment.let_go(session, a)
    if not await repo.take_capacity(session, worker.id, now):
        raise Conflict("This key worker is at their maximum caseload.", slug="caseload-full")
    a.attempt += 1
    a.keyworker_id, a.status, a.via = worker.id, "offered", "coordinator"
    a.reasons = ["chosen by a coordinator on the Hub board"]
    a.accepted_at, a.cover_for, a.updated_at = None, None, now
    await outbound.send(session, [outbound.handoff(a, WorkerRow.of(worker), now),
                                  outbound.referral_event(a, "reassigned", now)])
    audit(session, AuditEntry, actor, "assign_to", "assignment", a.id, now)
    return {"keyworker_id": a.keyworker_id, "status": a.status, "attempt": a.attempt}


@router.post("/referrals/{referral_id}/next")
async def offer_next(referral_id: str, session: SessionDep, actor: CoordinatorDep,
                     clock: ClockDep) -> dict[str, Any]:
    """Offer the referral to the best candidate now (the rules run again)."""
    now = clock.now()
    a = await assignment.retry(session, referral_id, now)
    audit(session, AuditEntry, actor, "reassign", "assignment", a.id, now)
    return {"keyworker_id": a.keyworker_id, "status": a.status, "attempt": a.attempt}
