"""One pipeline for a person's written message (SMS or email): record, triage, refer, answer.

Idempotent: the contact row (unique per channel and carrier id) is written first with
INSERT … ON CONFLICT DO NOTHING; a twin delivery that loses that race does nothing else and
answers with the reply the winner stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.intake import followup, repository
from services.intake.crisis import CrisisCheck, CrisisDetector
from services.intake.deps import Intake
from services.intake.models import Contact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingMessage:
    channel: str  # sms or email
    external_id: str  # MessageSid or Message-ID
    from_address: str | None
    person_id: str | None
    body: str
    subject: str | None = None
    thread_reference: str | None = None  # a reference the message itself points at
    from_raw: str | None = None  # the sender exactly as the carrier gave it
    from_verified: bool | None = None  # a phone number the metadata lists (None: not a phone)


REFERENCE = re.compile(r"\bLW-[0-9A-Z]{4}-[0-9A-Z]{4}\b", re.IGNORECASE)


async def quoted_reference(session: AsyncSession, *texts: str | None) -> str | None:
    """The first `LW-…` reference quoted in `texts` that names a referral we know."""
    for text in texts:
        for found in REFERENCE.findall(text or ""):
            if await repository.get_link(session, found.upper()) is not None:
                return str(found).upper()
    return None


# (reference, urgency, crisis, joined an open referral) -> the reply text
ReplyRenderer = Callable[[str, str, bool, bool], str]


@dataclass(frozen=True)
class Outcome:
    contact: Contact
    duplicate: bool


async def take(session: AsyncSession, intake: Intake, msg: IncomingMessage, now: datetime,
               render: ReplyRenderer, *, detector: CrisisDetector | None = None) -> Outcome:
    """Record the message once; refer, alert and compose the reply for the first delivery
    (triaged by `detector`, the maintained phrase list unless given)."""
    contact_id = new_id()
    added = await repository.insert_contact_if_new(session, {
        "id": contact_id, "channel": msg.channel, "external_id": msg.external_id,
        "person_id": msg.person_id, "from_address": msg.from_address,
        "from_raw": msg.from_raw, "from_verified": msg.from_verified, "reference": None,
        "ivr_choice": None, "outcome": None, "crisis": False, "subject": msg.subject,
        "body": msg.body, "recording_url": None, "reply": None, "ack_message_id": None,
        "created_at": now, "updated_at": now})
    contact = await repository.contact_by_external(session, msg.channel, msg.external_id)
    if contact is None:  # pragma: no cover - the row was just written or already there
        raise RuntimeError("contact vanished")
    if not added:
        log.info("repeated delivery answered from the stored reply",
                 extra={"event": "contact.duplicate", "contact_id": contact.id,
                        "channel": msg.channel})
        return Outcome(contact, duplicate=True)
    check = (detector or intake.crisis).check(msg.subject, msg.body)
    reference, joined = await _refer(session, intake, msg, contact, check, now)
    contact.reference, contact.crisis = reference, check.is_crisis
    contact.reply = render(reference, _urgency(check), check.is_crisis, joined)
    if check.is_crisis:
        await followup.enqueue_crisis_alert(session, contact_id=contact.id,
                                            reference=reference, now=now)
        await followup.add_callback(session, intake.replies, contact_id=contact.id,
                                    person_id=msg.person_id, channel=msg.channel,
                                    reason="crisis_message", risk="crisis",
                                    reference=reference, now=now)
    log.info("message recorded", extra={"event": "contact.recorded", "contact_id": contact.id,
                                        "channel": msg.channel, "reference": reference,
                                        "urgency": _urgency(check)})
    return Outcome(contact, duplicate=False)


def _urgency(check: CrisisCheck) -> str:
    return "emergency" if check.is_crisis else "routine"


async def _refer(session: AsyncSession, intake: Intake, msg: IncomingMessage, contact: Contact,
                 check: CrisisCheck, now: datetime) -> tuple[str, bool]:
    """(reference, joined): join the thread or the open referral, or start a self-referral.

    Crisis language joins the person's open emergency referral (the thread's, or any other
    recent one) and otherwise raises a new emergency referral, even inside an open routine
    one, so the emergency is routed at once rather than waiting behind a routine deadline.
    """
    days = intake.config.open_referral_days
    thread = await repository.get_link(session, msg.thread_reference) \
        if msg.thread_reference else None
    if check.is_crisis:
        if thread is not None and thread.urgency == "emergency":
            return thread.reference, True
        link = await followup.open_referral(session, msg.person_id, now, days,
                                            urgency="emergency")
    else:
        link = thread or await followup.open_referral(session, msg.person_id, now, days)
    if link is not None:
        return link.reference, True
    reason = (f"Self-referral by {msg.channel}: the message is held by intake "
              f"(contact {contact.id}).")
    reference = await followup.enqueue_self_referral(
        session, contact_id=contact.id, person_id=msg.person_id, source=msg.channel,
        reason=reason, urgency=_urgency(check), risk=check.risk(), now=now)
    return reference, False


def sms_reply(intake: Intake) -> ReplyRenderer:
    """The SMS wording: crisis, joined, or received with the expected response time."""
    words = intake.replies

    def render(reference: str, urgency: str, crisis: bool, joined: bool) -> str:
        template = (words.sms.crisis if crisis else words.sms.joined if joined
                    else words.sms.received)
        text = template.format(reference=reference, response_time=words.response_time(urgency))
        return " ".join(text.split())

    return render
