"""Outreach for coordinators and admins signed in to the desk (key workers and keys get 403):
the list of people to visit per locality, a visit given to a key worker, and its outcome.
The list carries references, places and ids only (the person is read, audited, on their
referral's page); each step is audited, never with what the note says."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.common.audit import audit
from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import NotFound
from services.referral import outreach
from services.referral.models import AuditEntry

router = APIRouter(prefix="/api/v1/desk/outreach", include_in_schema=False)
ID = r"^[0-9A-Za-z_-]{1,64}$"


class VisitRequest(BaseModel):
    keyworker_id: str = Field(min_length=1, max_length=64, pattern=ID)


class OutcomeRequest(BaseModel):
    outcome: Literal["engaged", "declined", "safe_no_need", "not_home", "moved_away"]
    note: str = Field(default="", max_length=2000)


class OutreachItem(BaseModel):
    referral_id: str
    reference: str
    person_id: str | None
    locality: str
    why: str = Field(description="`not_reached` (closed so) or `unanswered` (3 attempts).")
    unanswered: int
    since: datetime
    visit: dict[str, Any] | None


class OutreachList(BaseModel):
    count: int
    localities: dict[str, list[OutreachItem]]
    outcomes: dict[str, str]


@router.get("", response_model=OutreachList)
async def outreach_list(session: SessionDep, _: CoordinatorDep,
                        locality: Annotated[str | None, Query(max_length=40)] = None,
                        ) -> OutreachList:
    found = await outreach.candidates(session, locality or None)
    grouped: dict[str, list[OutreachItem]] = defaultdict(list)
    for c in found:
        r, visit = c.referral, c.current
        grouped[r.locality].append(OutreachItem(
            referral_id=r.id, reference=r.reference, person_id=r.person_id,
            locality=r.locality, why=c.why, unanswered=c.unanswered, since=r.status_at,
            visit=visit.view(r.reference) if visit is not None else None))
    return OutreachList(count=len(found), localities=dict(sorted(grouped.items())),
                        outcomes=outreach.OUTCOMES)


@router.post("/{reference}/visits", status_code=201)
async def give_visit(reference: str, body: VisitRequest, session: SessionDep,
                     actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """A coordinator gives the person's visit to a key worker (again: to another one)."""
    c = await outreach.candidate(session, reference)
    if c is None:
        raise NotFound("referral")
    now = clock.now()
    visit_id = outreach.assign_visit(session, c.referral, body.keyworker_id, actor.person_id, now)
    audit(session, AuditEntry, actor, "outreach_visit", "referral", c.referral.id, now)
    return {"id": visit_id, "reference": reference, "keyworker_id": body.keyworker_id}


@router.post("/visits/{visit_id}/outcome")
async def visit_outcome(visit_id: str, body: OutcomeRequest, session: SessionDep,
                        actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """How the visit went: it lands on the person's story; once only per visit."""
    found = await outreach.find_visit(session, visit_id)
    if found is None:
        raise NotFound("visit")
    referral, visit = found
    now = clock.now()
    outreach.record_outcome(session, visit, body.outcome, body.note.strip(), actor.person_id,
                            now)
    audit(session, AuditEntry, actor, f"visit_outcome:{body.outcome}", "referral", referral.id,
          now)
    return {"id": visit.id, "reference": referral.reference, "outcome": body.outcome}
