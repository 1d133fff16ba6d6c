"""The Hub board's rota and assignment steps, for coordinators and admins signed in to the
desk (key workers and keys get 403): who is on duty now per role and locality, the rota's
gaps in the next 7 days, a referral's ranked candidates with their reasons, and giving a
referral to a chosen key worker or offering it to the next."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.keyperson import assignment, duty
from services.keyperson import repository as repo
from services.keyperson.models import Assignment
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


@router.get("/referrals/{referral_id}/candidates", response_model=Candidates)
async def candidates(referral_id: str, session: SessionDep, actor: CoordinatorDep,
                     clock: ClockDep) -> Candidates:
    """Who holds the referral now and by which rule, and who would be ranked for it now
    (best first, each with the reasons), with the workers left out and why. Changes nothing."""
    standing = await assignment.candidates_now(session, referral_id, actor, clock.now())
    a, names = standing.assignment, standing.workers
    return Candidates(
        reference=a.reference, status=a.status, keyworker_id=a.keyworker_id, via=a.via,
        reasons=list(a.reasons or []),
        candidates=[{**c.as_dict(i + 1), "name": _name(names, c.keyworker_id)}
                    for i, c in enumerate(standing.ranked)],
        excluded=[{"keyworker_id": k, "name": _name(names, k), "why": why}
                  for k, why in standing.excluded.items()])


def _name(workers: dict[str, Any], keyworker_id: str) -> str:
    worker = workers.get(keyworker_id)
    return str(worker.name) if worker is not None else keyworker_id


class AssignTo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyworker_id: str = Field(min_length=1, max_length=36)


def _held(a: Assignment) -> dict[str, Any]:
    return {"keyworker_id": a.keyworker_id, "status": a.status, "attempt": a.attempt}


@router.post("/referrals/{referral_id}/assign")
async def assign_to(referral_id: str, body: AssignTo, session: SessionDep,
                    actor: CoordinatorDep, clock: ClockDep) -> dict[str, Any]:
    """Give the referral to the chosen key worker: whoever holds it lets go and the chosen
    worker gets a new handoff (notify closes the earlier one as reassigned). The worker must
    be active, present and below their maximum caseload."""
    return _held(await assignment.hand_to_chosen_worker(session, referral_id,
                                                        body.keyworker_id, actor, clock.now()))


@router.post("/referrals/{referral_id}/next")
async def offer_next(referral_id: str, session: SessionDep, actor: CoordinatorDep,
                     clock: ClockDep) -> dict[str, Any]:
    """Offer the referral to the best candidate now (the rules run again)."""
    return _held(await assignment.reoffer_on_request(session, referral_id, actor, clock.now()))
