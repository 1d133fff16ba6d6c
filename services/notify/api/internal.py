"""Internal routes: handoffs from keyperson, replies from intake, alerts, person messages."""

from __future__ import annotations

from fastapi import APIRouter

from services.common.deps import SessionDep
from services.notify import alerts, handoffs, messages, replies
from services.notify.deps import NotifyDep
from services.notify.schemas import (
    AlertIn,
    HandoffCreate,
    HandoffCreated,
    MessageQueued,
    PersonMessageIn,
    ReplyIn,
    ReplyOut,
)

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/handoffs", response_model=HandoffCreated)
async def create_handoff(body: HandoffCreate, session: SessionDep,
                         own: NotifyDep) -> HandoffCreated:
    """Offer a referral to a key worker: the handoff SMS (and calls) by the escalation policy.
    The same `handoff_key` again answers the same handoff and sends nothing more."""
    h = await handoffs.offer(session, own, body.model_dump())
    return HandoffCreated(handoff_id=h.id)


@router.post("/replies", response_model=ReplyOut)
async def reply(body: ReplyIn, session: SessionDep, own: NotifyDep) -> ReplyOut:
    """An SMS to the single number that may be a key worker's ACCEPT/DECLINE. `handled: false`
    means it is a person's message and intake records it as a contact."""
    outcome = await replies.answer_sms_once(session, own, body.from_, body.body,
                                            body.message_sid)
    return ReplyOut(handled=outcome.handled, reply=outcome.reply)


@router.post("/alerts")
async def raise_alert(body: AlertIn, session: SessionDep, own: NotifyDep) -> dict[str, str]:
    """Alert the duty coordinators on duty now (once per `alert_key`), by reference only."""
    alert = await alerts.raise_alert(
        session, own, key=body.alert_key, kind=body.kind, reference=body.reference,
        referral_id=body.referral_id, handoff_id=None, urgency=body.urgency,
        respond_by=body.respond_by)
    return {"alert_id": alert.id}


@router.post("/person-messages", response_model=MessageQueued)
async def person_message(body: PersonMessageIn, session: SessionDep,
                         own: NotifyDep) -> MessageQueued:
    """An SMS to a person who contacted the line: their reference and next step, nothing else.
    Once per `message_key`."""
    msg = await messages.queue_person_message(
        session, message_key=body.message_key, template=body.template, to=body.to,
        reference=body.reference, urgency=body.urgency, respond_by=body.respond_by,
        now=own.kit.clock.now())
    return MessageQueued(message_id=msg.id)
