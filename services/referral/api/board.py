"""The Hub board's referrals not yet accepted, for coordinators and admins signed in to the
desk (key workers and keys get 403): soonest due first, with the at-risk point and the
respond-by time so the desk can show the clock. Reference, urgency and place only, nothing
about the person (so the read, polled every few seconds, writes no audit entry: the person
is read on the referral's own page, audited there)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.referral import repository

router = APIRouter(prefix="/api/v1/desk/board/referrals", include_in_schema=False)


class BoardReferral(BaseModel):
    id: str
    reference: str
    status: str
    urgency: str
    locality: str
    team: str | None
    created_at: datetime
    at_risk_at: datetime
    respond_by: datetime
    keyworker_id: str | None


class ReferralLane(BaseModel):
    count: int
    oldest_at: datetime | None
    at_risk: int
    overdue: int
    items: list[BoardReferral]


@router.get("", response_model=ReferralLane)
async def lane(session: SessionDep, _: CoordinatorDep, clock: ClockDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ReferralLane:
    now = clock.now()
    count, oldest, at_risk, overdue = await repository.awaiting_counts(session, now)
    rows = await repository.awaiting_soonest_due(session, limit)
    return ReferralLane(count=count, oldest_at=oldest, at_risk=at_risk, overdue=overdue,
                        items=[BoardReferral(
                            id=r.id, reference=r.reference, status=r.status,
                            urgency=r.urgency, locality=r.locality, team=r.team,
                            created_at=r.created_at, at_risk_at=r.sla_alert_at,
                            respond_by=r.respond_by, keyworker_id=r.keyworker_id)
                            for r in rows])
