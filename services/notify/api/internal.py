"""Internal routes: handoffs from keyperson, replies from intake, alerts, person messages."""

from __future__ import annotations

from fastapi import APIRouter

from services.common import inbox
from services.common.audit import audit
from services.common.context import SYSTEM
from services.common.deps import SessionDep
from services.notify import alerts, handoffs, replies, repository
from services.notify.context import NotifyDep
from services.notify.models import AuditEntry, InboxEntry
from services.notify.schemas import (
    AlertIn,
    HandoffCreate,
    HandoffCreated,
    MessageQueued,
    PersonMessageIn,
    ReplyIn,
    ReplyOut,
)
from services.notify.templates import Facts, render

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/handoffs", response_model=HandoffCreated)
async def create_handoff(body: HandoffCreate, session: SessionDep,
                         ctx: NotifyDep) -> HandoffCreated:
    """Offer a referral to a key worker: the handoff SMS (and calls) by the escalation policy.
    The same `handoff_key` again answers the same handoff and sends nothing more."""
    h = await handoffs.offer(session, ctx, body.model_dump())
    audit(session, AuditEntry, SYSTEM, "offer", "handoff", h.id, ctx.kit.clock.now())
    return HandoffCreated(handoff_id=h.id)


@router.post("/replies", response_model=ReplyOut)
async def reply(body: ReplyIn, session: SessionDep, ctx: NotifyDep) -> ReplyOut:
    """An SMS to the single number that may be a key worker's ACCEPT/DECLINE. `handled: false`
    means it is a person's message and intake records it as a contact."""
    key = f"reply:{body.message_sid}" if body.message_sid else None
    if key and (done := await inbox.seen(session, InboxEntry, key)) is not None:
        return ReplyOut.model_validate(done.response)  # the same MessageSid asked again
    outcome = await replies.handle_sms(session, ctx, body.from_, body.body)
    out = ReplyOut(handled=outcome.handled, reply=outcome.reply)
    if key:
        inbox.remember(session, InboxEntry, key, out.model_dump(), ctx.kit.clock.now())
    return out


@router.post("/alerts")
async def raise_alert(body: AlertIn, session: SessionDep, ctx: NotifyDep) -> dict[str, str]:
    """Alert the duty coordinators on duty now (once per `alert_key`), by reference only."""
    alert = await alerts.raise_alert(
        session, ctx, key=body.alert_key, kind=body.kind, reference=body.reference,
        referral_id=body.referral_id, handoff_id=None, urgency=body.urgency,
        respond_by=body.respond_by)
    return {"alert_id": alert.id}


@router.post("/person-messages", response_model=MessageQueued)
async def person_message(body: PersonMessageIn, session: SessionDep,
                         ctx: NotifyDep) -> MessageQueued:
    """An SMS to a person who contacted the line: their reference and next step, nothing else.
    Once per `message_key`."""
    key = f"person:{body.message_key}"
    existing = await repository.message_by_key(session, key)
    if existing is not None:
        return MessageQueued(message_id=existing.id)
    text = render(body.template, Facts(reference=body.reference or "", urgency=body.urgency,
                                       respond_by=body.respond_by))
    urgency = "emergency" if body.template == "crisis_signposting" else body.urgency
    msg = await handoffs.queue_message(session, key=key, kind=body.template, channel="sms",
                                       to=body.to, body=text, now=ctx.kit.clock.now(),
                                       urgency=urgency)
    assert msg is not None
    return MessageQueued(message_id=msg.id)
