"""Staff views: referrals near or past their deadline, and why a referral went where it did."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep, StaffDep
from services.common.errors import NotFound
from services.referral import referrals, repository
from services.referral.api.common import partner_view
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry
from services.referral.schemas import ReferralRead, RouteRead, SlaItem, StaffEventIn

router = APIRouter(tags=["staff"])


@router.get("/api/v1/sla/referrals", response_model=list[SlaItem])
async def sla_referrals(
    session: SessionDep, actor: StaffDep, clock: ClockDep,
    state: Annotated[Literal["overdue", "at_risk"], Query(
        description="`overdue`: past respond-by, nobody accepted; `at_risk`: past the alert "
                    "point, not yet due.")] = "overdue",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SlaItem]:
    """Unaccepted referrals past their deadline, or at risk of missing it, soonest due first."""
    now = clock.now()
    rows = await repository.sla_list(session, state=state, now=now, limit=limit)
    for row in rows:
        audit(session, AuditEntry, actor, "sla_list", "referral", row.id, now)
    return [SlaItem.model_validate(r, from_attributes=True) for r in rows]


@router.get("/api/v1/referrals/{referral_id}/route", response_model=RouteRead)
async def referral_route(referral_id: str, session: SessionDep, actor: StaffDep,
                         clock: ClockDep) -> RouteRead:
    """Why a referral was routed as it was: the rules version and the reasons (staff only)."""
    referral = await repository.get_referral(session, referral_id)
    if referral is None:
        raise NotFound("referral")
    audit(session, AuditEntry, actor, "read_route", "referral", referral.id, clock.now())
    return RouteRead(urgency=referral.urgency, respond_by=referral.respond_by,
                     locality=referral.locality, team=referral.team,
                     rules_version=referral.rules_version, reasons=referral.route_reasons)


@router.post("/api/v1/referrals/{referral_id}/events", response_model=ReferralRead)
async def record_step(referral_id: str, body: StaffEventIn, session: SessionDep,
                      actor: StaffDep, clock: ClockDep, own: ReferralDep) -> ReferralRead:
    """Record that the person was contacted, or close the referral with an outcome (staff
    only). The referrer sees the new status and, with a webhook, is told at once."""
    referral = await repository.get_referral_for_update(session, referral_id)
    if referral is None:
        raise NotFound("referral")
    now = clock.now()
    await referrals.record_staff_step(session, own.announcer, referral, body.event, body.outcome,
                                      body.at or now, now)
    audit(session, AuditEntry, actor, f"event:{body.event}", "referral", referral.id, now)
    events = await repository.timelines(session, [referral.id])
    return partner_view(referral, events[referral.id])
