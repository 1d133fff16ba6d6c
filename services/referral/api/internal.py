"""Internal routes: intake's self-referrals and the status events of keyperson and notify."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from services.common.audit import audit
from services.common.deps import ActorDep, ClockDep, SessionDep
from services.common.errors import NotFound
from services.common.inbox import remember, seen
from services.referral import referrals, repository, timeline
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry, InboxEntry
from services.referral.schemas import (
    EventApplied,
    ReferralEventIn,
    SelfReferralCreate,
    SelfReferralCreated,
)

router = APIRouter(prefix="/internal/referrals", include_in_schema=False)

DeliveryKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


@router.post("", response_model=SelfReferralCreated)
async def create_self_referral(body: SelfReferralCreate, session: SessionDep, actor: ActorDep,
                               clock: ClockDep, own: ReferralDep,
                               idempotency_key: DeliveryKey = None) -> Any:
    """A self-referral from intake (voice, SMS, email), routed like a partner's."""
    if idempotency_key and (done := await seen(session, InboxEntry, idempotency_key)):
        return done.response
    now = clock.now()
    referral = await referrals.submit_self_referral(session, own.rules.ruleset, own.announcer,
                                                    body, now)
    answer = SelfReferralCreated(
        referral_id=referral.id, reference=referral.reference,
        urgency=referral.urgency, respond_by=referral.respond_by,
        locality=referral.locality, team=referral.team).model_dump(mode="json")
    if idempotency_key:
        remember(session, InboxEntry, idempotency_key, answer, now)
    audit(session, AuditEntry, actor, "create", "referral", referral.id, now)
    return answer


@router.post("/{referral_id}/events", response_model=EventApplied)
async def record_event(referral_id: str, body: ReferralEventIn, session: SessionDep,
                       actor: ActorDep, clock: ClockDep, own: ReferralDep,
                       idempotency_key: DeliveryKey = None) -> Any:
    """A step of the handoff (assigned, accepted, declined, reassigned, contacted, closed).
    Kept on the timeline; the status only ever moves forward."""
    if idempotency_key and (done := await seen(session, InboxEntry, idempotency_key)):
        return done.response
    referral = await repository.get_referral_for_update(session, referral_id)
    if referral is None:
        raise NotFound("referral")
    now = clock.now()
    moved = await timeline.record_and_announce(session, own.announcer, referral, body.event,
                                               body.at, now, keyworker_id=body.keyworker_id)
    answer = EventApplied(referral_id=referral.id, status=referral.status,
                          applied=moved).model_dump(mode="json")
    if idempotency_key:
        remember(session, InboxEntry, idempotency_key, answer, now)
    audit(session, AuditEntry, actor, f"event:{body.event}", "referral", referral.id, now)
    return answer
