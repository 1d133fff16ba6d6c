"""The message table as a queue: each SMS or call is added once per key, and the dispatcher
(`services.notify.dispatcher`) sends the most urgent first.

Its own module because handoffs, alerts, person messages and signposts all queue messages,
and handoffs raise alerts: none of them needs to import another to send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.common.outbox import priority_for, wake_after_commit
from services.notify import repository
from services.notify.models import Message
from services.notify.templates import Facts, render


async def queue_message(session: AsyncSession, *, key: str, kind: str, channel: str, to: str,
                        body: str, now: datetime, handoff_id: str | None = None,
                        alert_id: str | None = None,
                        urgency: str | None = None) -> Message | None:
    """Add a message for the dispatcher, once per `key` (None when it already exists); the
    dispatcher sends the most urgent first, woken when this transaction commits."""
    if await repository.message_by_key(session, key) is not None:
        return None
    msg = Message(id=new_id(), dedupe_key=key, handoff_id=handoff_id, alert_id=alert_id,
                  kind=kind, channel=channel, to=to, body=body, status=repository.PENDING,
                  attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
                  priority=priority_for(urgency))
    session.add(msg)
    wake_after_commit(session)
    return msg


async def queue_once(session: AsyncSession, *, key: str, kind: str, to: str, body: str,
                     now: datetime, urgency: str) -> Message:
    """An SMS to a person, queued once per `key`: the message already queued under the key, or
    a new one."""
    existing = await repository.message_by_key(session, key)
    if existing is not None:
        return existing
    msg = await queue_message(session, key=key, kind=kind, channel="sms", to=to, body=body,
                              now=now, urgency=urgency)
    assert msg is not None  # no message had the key a moment ago, in this transaction
    return msg


async def queue_person_message(session: AsyncSession, *, message_key: str, template: str,
                               to: str, reference: str | None, urgency: str,
                               respond_by: datetime | None, now: datetime) -> Message:
    """An SMS to a person who contacted the line: their reference and next step, nothing
    else, once per `message_key`. The crisis signposting text goes out as an emergency."""
    text = render(template, Facts(reference=reference or "", urgency=urgency,
                                  respond_by=respond_by))
    return await queue_once(
        session, key=f"person:{message_key}", kind=template, to=to, body=text, now=now,
        urgency="emergency" if template == "crisis_signposting" else urgency)
