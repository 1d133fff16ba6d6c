"""A message written on the public website's contact form: one more way in, the same pipeline.

The site posts it here (never the person's browser directly). It goes through the pipeline of
texts and emails (`messages.take`): the person index, crisis triage, a self-referral or a join,
the crisis alert. A PHQ-9 result sent with the message whose item 9 is above 0 counts as
self-harm language. The form's idempotency token is the contact's external id, so a double
submit is one contact. A form whose hidden honeypot field was filled is kept but held: no
referral and no acknowledgement, unless it carries crisis language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.common.phone import is_mobile
from services.intake import mail_in, messages, repository
from services.intake.crisis import CrisisCheck, CrisisDetector
from services.intake.deps import Intake
from services.intake.models import Contact
from services.intake.people import Subject, normal_email, normal_phone, resolve

log = logging.getLogger(__name__)
HELD = "held_spam"
TEXT_BACK = "text_back"  # the person asked to hear back by text: see followup's reply handler


@dataclass(frozen=True)
class WebMessage:
    token: str
    message: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_way: str = "any"  # any, phone, text, email
    preferred_time: str = "any"  # any, morning, afternoon, evening
    language: str = "en"
    phq9: int | None = None
    phq9_item9: int | None = None
    gad7: int | None = None
    suspected_spam: bool = False


@dataclass(frozen=True)
class WebOutcome:
    contact: Contact
    duplicate: bool
    held: bool
    urgency: str


class _WithSelfAssessment(CrisisDetector):
    """The maintained phrase list, plus what the self-assessment sent with the message says."""

    def __init__(self, inner: CrisisDetector, kinds: tuple[str, ...]) -> None:
        # The inner detector's compiled patterns are reused, not rebuilt.
        self._inner, self._extra = inner, kinds
        self.version = inner.version

    def check(self, *texts: str | None) -> CrisisCheck:
        found = self._inner.check(*texts)
        return CrisisCheck(tuple(dict.fromkeys((*found.kinds, *self._extra))))


def _body(msg: WebMessage) -> str:
    """The message as staff read it, with what the form asked beside it."""
    lines = [msg.message, "", "---", "Sent from the website's contact form."]
    if msg.name:
        lines.append(f"Name given: {msg.name}")
    if msg.phone:
        lines.append(f"Phone given: {msg.phone}")
    if msg.email:
        lines.append(f"Email given: {msg.email}")
    lines.append(f"Preferred way: {msg.preferred_way}; preferred time: {msg.preferred_time}")
    lines.append(f"Page language: {msg.language}")
    if msg.phq9 is not None:
        lines.append(f"PHQ-9 total {msg.phq9} (item 9: {msg.phq9_item9})")
    if msg.gad7 is not None:
        lines.append(f"GAD-7 total {msg.gad7}")
    if msg.suspected_spam:
        lines.append("Held: the form's hidden anti-spam field was filled in.")
    return "\n".join(lines)


def _render(intake: Intake) -> messages.ReplyRenderer:
    """What is stored as the contact's reply (and emailed, when an address was given)."""
    words = intake.replies

    def render(reference: str, urgency: str, crisis: bool, joined: bool) -> str:
        body = words.email.body.format(reference=reference,
                                       response_time=words.response_time(urgency))
        return (" ".join(words.sms.crisis.format(reference=reference).split()) + "\n\n" + body
                if crisis else body)

    return render


async def _person(session: AsyncSession, msg: WebMessage, now: datetime) -> str | None:
    """The same matching as texts and emails: a phone or an address links to one person."""
    phone, email = normal_phone(msg.phone), normal_email(msg.email)
    if phone is None and email is None:
        return None
    return (await resolve(session, Subject(phone=phone, email=email), now)).person_id


async def _hold(session: AsyncSession, msg: WebMessage, person_id: str | None,
                now: datetime) -> WebOutcome:
    contact_id = new_id()
    added = await repository.insert_contact_if_new(session, {
        "id": contact_id, "channel": "web", "external_id": f"web:{msg.token}",
        "person_id": person_id, "from_address": _address(msg), "reference": None,
        "ivr_choice": None, "outcome": HELD, "crisis": False, "subject": None,
        "body": _body(msg), "recording_url": None, "reply": None, "ack_message_id": None,
        "created_at": now, "updated_at": now})
    contact = await repository.contact_by_external(session, "web", f"web:{msg.token}")
    if contact is None:  # pragma: no cover - the row was just written or already there
        raise RuntimeError("contact vanished")
    log.info("web message held as likely spam", extra={
        "event": "contact.held", "contact_id": contact.id, "channel": "web"})
    return WebOutcome(contact, duplicate=not added, held=contact.outcome == HELD,
                      urgency="emergency" if contact.crisis else "routine")


def _address(msg: WebMessage) -> str | None:
    """Where we answer: the way the person preferred, when they gave it, else email first."""
    email, phone = normal_email(msg.email), normal_phone(msg.phone)
    if msg.preferred_way in ("text", "phone") and phone:
        return phone
    return email or phone


def _enqueue_acknowledgement(session: AsyncSession, intake: Intake, contact: Contact,
                             now: datetime) -> None:
    """Email the reference to an address; or mark a mobile number to be texted once the
    referral has its respond-by time (followup's reply handler sends it)."""
    to = contact.from_address
    if not to or not contact.reference:
        return
    if "@" in to:
        mail_in.enqueue_ack(session, intake, contact, to=to, in_reply_to=None, now=now)
    elif is_mobile(to):
        contact.outcome = TEXT_BACK


async def receive(session: AsyncSession, intake: Intake, msg: WebMessage,
                  now: datetime) -> WebOutcome:
    """Record the message once; triage, refer and acknowledge it like a text or an email."""
    person_id = await _person(session, msg, now)
    extra = ("self_harm",) if (msg.phq9_item9 or 0) > 0 else ()
    if msg.suspected_spam and not extra and not intake.crisis.check(msg.message).is_crisis:
        return await _hold(session, msg, person_id, now)
    incoming = messages.IncomingMessage(
        channel="web", external_id=f"web:{msg.token}", from_address=_address(msg),
        person_id=person_id, body=_body(msg))
    outcome = await messages.take(session, intake, incoming, now, _render(intake),
                                  detector=_WithSelfAssessment(intake.crisis, extra))
    contact = outcome.contact
    urgency = "emergency" if contact.crisis else "routine"
    if not outcome.duplicate:
        _enqueue_acknowledgement(session, intake, contact, now)
    return WebOutcome(contact, duplicate=outcome.duplicate, held=contact.outcome == HELD,
                      urgency=urgency)
