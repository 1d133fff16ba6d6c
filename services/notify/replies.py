"""A key worker's answer, by SMS (`ACCEPT <code>` / `DECLINE <code>`) or by keypad on a call.

A code is honoured only from the number its handoff was sent to, until it expires; an ACCEPT
for a referral someone else already took answers "already taken"; anything else from a key
worker's number gets a short help reply, a few times an hour at most, so two machines
answering each other cannot loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common import inbox
from services.common.phone import to_e164
from services.notify import alerts, handoffs, repository
from services.notify.codes import Verb, parse_reply
from services.notify.deps import Notify
from services.notify.models import OPEN, Handoff, InboxEntry, ReplyLog
from services.notify.templates import REPLIES, Facts

log = logging.getLogger(__name__)
MAX_REPLIES_PER_HOUR = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether notify took the SMS (so it never becomes a contact), and what to answer."""

    handled: bool
    reply: str | None = None
    result: str = "ignored"


def _answer(kind: str, h: Handoff) -> str:
    return REPLIES[kind](Facts(reference=h.reference, urgency=h.urgency))


async def decide(session: AsyncSession, own: Notify, h: Handoff, verb: Verb) -> str:
    """Apply an accept or decline to a handoff (locked); the result's name."""
    now = own.kit.clock.now()
    if h.status == OPEN and now <= h.code_expires_at:
        if verb == "accept":
            taken = await repository.accepted_for_referral(session, h.referral_id)
            if taken is not None and taken.id != h.id:
                await handoffs.close_and_tell(session, own, h, "reassigned", now)
                return "already_taken"
            await handoffs.close_and_tell(session, own, h, "accepted", now)
            return "accepted"
        await handoffs.close_and_tell(session, own, h, "declined", now)
        return "declined"
    if h.status == "accepted":
        return "already_accepted"
    if verb == "accept":
        taken = await repository.accepted_for_referral(session, h.referral_id)
        if taken is not None and taken.id != h.id:
            return "already_taken"
    return "closed"


async def answer_sms_once(session: AsyncSession, own: Notify, from_raw: str, body: str,
                          message_sid: str | None) -> Outcome:
    """`handle_sms`, once per Twilio `message_sid`: the same MessageSid asked again (intake
    retrying) gets the first answer, and nothing is done twice."""
    key = f"reply:{message_sid}" if message_sid else None
    if key and (done := await inbox.seen(session, InboxEntry, key)) is not None:
        first = done.response if isinstance(done.response, dict) else {}
        return Outcome(bool(first.get("handled")), first.get("reply"), "repeat")
    outcome = await handle_sms(session, own, from_raw, body)
    if key:
        inbox.remember(session, InboxEntry, key,
                       {"handled": outcome.handled, "reply": outcome.reply},
                       own.kit.clock.now())
    return outcome


async def handle_sms(session: AsyncSession, own: Notify, from_raw: str, body: str) -> Outcome:
    """Answer an SMS to the single number that may be a key worker's reply."""
    try:
        phone = to_e164(from_raw)
    except ValueError:
        phone = from_raw
    reply = parse_reply(body)
    latest = await repository.latest_for_number(session, phone)
    candidates = list(await repository.handoffs_with_code(session, reply.code)) \
        if reply.code else []
    if latest is None and not candidates:
        return Outcome(False)  # a person, not a key worker: intake takes it as a contact
    now = own.kit.clock.now()
    if await repository.replies_since(session, phone, None, now - timedelta(hours=1)) \
            >= MAX_REPLIES_PER_HOUR:
        return _logged(session, phone, now, Outcome(True, None, "throttled"))
    if reply.stop and latest is not None:
        await alerts.raise_alert(
            session, own, key=f"worker_stopped:{latest.keyworker_id}:{now.date().isoformat()}",
            kind="worker_stopped", reference=latest.reference, referral_id=latest.referral_id,
            handoff_id=latest.id, urgency=latest.urgency, respond_by=latest.respond_by)
        return _logged(session, phone, now, Outcome(True, None, "stop"))
    mine = sorted((h for h in candidates if h.phone == phone),
                  key=lambda h: (h.status != OPEN, -h.created_at.timestamp()))
    if reply.verb and mine:
        h = await repository.lock_handoff(session, mine[0].id)
        if h is not None:
            result = await decide(session, own, h, reply.verb)
            log.info("key worker replied", extra={"event": "reply.sms", "handoff_id": h.id,
                                                  "status": result})
            return _logged(session, phone, now, Outcome(True, _answer(result, h), result))
    helps = await repository.replies_since(session, phone, "help", now - timedelta(hours=1))
    if helps >= own.config.help_replies_per_hour:
        return _logged(session, phone, now, Outcome(True, None, "help_throttled"))
    help_text = REPLIES["help"](Facts(reference="", urgency="urgent"))
    return _logged(session, phone, now, Outcome(True, help_text, "help"))


async def keypress(session: AsyncSession, own: Notify, handoff_id: str, call_sid: str,
                   digits: str) -> str:
    """The key worker pressed `digits` on the handoff call `call_sid`: 1 accepts, 2 declines.
    The result's name (`decide`'s), `not_this_call` when the call is not this open handoff's,
    or `ask_again` for any other key."""
    call = await repository.message_by_sid(session, call_sid)
    h = await repository.lock_handoff(session, handoff_id)
    if h is None or call is None or call.handoff_id != handoff_id:
        return "not_this_call"
    if digits not in ("1", "2"):
        return "ask_again"
    return await decide(session, own, h, "accept" if digits == "1" else "decline")


def _logged(session: AsyncSession, phone: str, now: datetime, outcome: Outcome) -> Outcome:
    session.add(ReplyLog(from_number=phone, outcome=outcome.result, at=now))
    return outcome
