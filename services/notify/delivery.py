"""What happens to a message after the dispatcher handed it to Twilio: sent (its sid),
refused for good, and the status callbacks, applied once, in any order; a failure moves to
the next channel.

Each (sid, status) is stored once; a status only ever moves a message forward; a callback
that arrives before the send's sid was committed waits in `delivery_event` and is applied
when the sid is recorded.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import handoffs, repository
from services.notify.deps import Notify
from services.notify.models import DeliveryEvent, Message

RANK = {
    "accepted": 1, "scheduled": 1, "queued": 1, "initiated": 1, "sending": 2, "ringing": 2,
    "sent": 3, "in-progress": 3, "delivered": 4, "undelivered": 4, "failed": 4, "read": 4,
    "canceled": 4, "completed": 4, "busy": 4, "no-answer": 4,
}
FAILED = {"sms": ("failed", "undelivered"), "voice": ("failed",)}
UNANSWERED = ("busy", "no-answer", "canceled")


async def sent(session: AsyncSession, own: Notify, msg: Message, reconciled: bool) -> None:
    """The dispatcher recorded the message's sid: on the handoff's timeline (`reconciled`
    when it was found at Twilio rather than sent again), and any callback that came first."""
    if msg.handoff_id:
        handoffs.note(session, msg.handoff_id, msg.updated_at, "sent", channel=msg.channel,
                      message_id=msg.id, detail="reconciled" if reconciled else None)
    await apply_waiting(session, own, msg)


async def refused(session: AsyncSession, own: Notify, msg: Message, code: int) -> None:
    """Twilio refused the message's recipient for good: alert and try the next channel."""
    await handoffs.alert_and_fail_over(session, own, msg, code)


async def record_status(session: AsyncSession, own: Notify, sid: str, status: str,
                        error_code: int | None) -> None:
    """Store one callback (a repeat is ignored) and apply it to its message if known."""
    if status not in RANK or await repository.has_delivery_event(session, sid, status):
        return
    session.add(DeliveryEvent(provider_sid=sid, status=status, error_code=error_code,
                              at=own.kit.clock.now()))
    await session.flush()
    msg = await repository.message_by_sid(session, sid)
    if msg is not None:
        await _apply(session, own, msg, status, error_code)


async def apply_waiting(session: AsyncSession, own: Notify, msg: Message) -> None:
    """Apply callbacks that arrived before the message's sid was recorded."""
    if msg.provider_sid is None:
        return
    for event in await repository.delivery_events(session, msg.provider_sid):
        await _apply(session, own, msg, event.status, event.error_code)


async def _apply(session: AsyncSession, own: Notify, msg: Message, status: str,
                 error_code: int | None) -> None:
    if RANK[status] <= RANK.get(msg.status, 0):
        return  # older or repeated news never moves a message back
    msg.status, msg.updated_at = status, own.kit.clock.now()
    if error_code is not None:
        msg.error_code = error_code
    if status in FAILED.get(msg.channel, ()):
        await handoffs.alert_and_fail_over(session, own, msg, error_code)
    elif msg.handoff_id and (status == "delivered" or status in UNANSWERED):
        step = "delivered" if status == "delivered" else "call_unanswered"
        handoffs.note(session, msg.handoff_id, msg.updated_at, step, channel=msg.channel,
                      message_id=msg.id, detail=status)
