"""The voice line's steps: what each Twilio request means for the call and what to say next."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from services.common.ids import new_id
from services.common.phone import may_text, person_number
from services.intake import followup, ivr, lookups, repository
from services.intake.deps import Intake
from services.intake.ivr import CRISIS_TIERS, Urls
from services.intake.models import Contact
from services.intake.people import person_for_phone

log = logging.getLogger(__name__)
Form = Mapping[str, str]
FINISHED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def _contact_values(form: Form, person_id: str | None, now: datetime) -> dict[str, object]:
    # Twilio's From is kept exactly as received, whatever the metadata thinks of it: a number
    # in a range it does not list yet is still a person to call back (flagged unverified).
    raw = form.get("From") or None
    number = person_number(raw)
    return {"id": new_id(), "channel": "voice",
            "external_id": form["CallSid"], "person_id": person_id,
            "from_address": number.e164 if number else None, "from_raw": raw and raw[:320],
            "from_verified": number.verified if number else None, "reference": None,
            "ivr_choice": None, "outcome": None, "crisis": False, "subject": None, "body": None,
            "recording_url": None, "reply": None, "ack_message_id": None,
            "created_at": now, "updated_at": now}


async def answer(intake: Intake, form: Form, now: datetime) -> str:
    """A new call: record it (group-committed with the calls arriving alongside it), then the
    greeting and menu, with option 4 for a caller the person index knows."""
    recorded = await intake.calls.record(_contact_values(form, None, now))
    log.info("call answered", extra={"event": "call.answered", "call_sid": form["CallSid"],
                                     "person_id": recorded.person_id,
                                     "count": int(recorded.added), "step": intake.script.version})
    return intake.greeting(offer_key_worker=recorded.person_id is not None)


async def call_contact(session: AsyncSession, form: Form, now: datetime) -> Contact:
    """The contact of this call, recorded now if the first request never reached us."""
    contact = await repository.contact_by_external(session, "voice", form["CallSid"])
    if contact is not None:
        return contact
    await repository.insert_contact_if_new(session, _contact_values(form, None, now))
    found = await repository.contact_by_external(session, "voice", form["CallSid"])
    assert found is not None
    return found


def _urls(intake: Intake) -> Urls:
    return Urls(intake.kit.settings.public_base_url)


async def menu_choice(session: AsyncSession, intake: Intake, form: Form, *, attempt: int,
                      offer_key_worker: bool, now: datetime) -> VoiceResponse:
    """A key press (or none) in the menu."""
    choice = ivr.choose(form.get("Digits"), attempt, offer_key_worker)
    if choice == "retry":
        return ivr.menu(intake.script, _urls(intake), attempt=attempt + 1,
                        offer_key_worker=offer_key_worker)
    contact = await call_contact(session, form, now)
    contact.ivr_choice, contact.updated_at = choice, now
    script, urls = intake.script, _urls(intake)
    if choice == "crisis":
        return await crisis_step(session, intake, contact, tier=0, now=now)
    if choice == "support":
        if contact.from_address is None:
            contact.outcome = "no_number"
            return ivr.goodbye(script, script.support.no_number, script.support.signposting)
        return ivr.record(script, urls, purpose="support", prompt=script.support.record_prompt)
    if choice == "professional":
        return ivr.record(script, urls, purpose="professional",
                          prompt=script.professionals.information)
    return await key_worker_step(intake, contact)


async def key_worker_step(intake: Intake, contact: Contact) -> VoiceResponse:
    """Option 4: ring the person's key worker when on duty, else take a message for them."""
    script, urls = intake.script, _urls(intake)
    line = None
    if contact.person_id:
        line = await lookups.key_worker(intake.kit.client, contact.person_id,
                                        intake.config.lookup_timeout_seconds)
    if line is None:
        return ivr.record(script, urls, purpose="key_worker", prompt=script.key_worker.not_found)
    if line.on_duty and line.phone:
        return ivr.dial(script, urls, numbers=[line.phone],
                        caller_id=intake.kit.settings.twilio_phone_number,
                        say=script.key_worker.connecting, action=urls.step("keyworker-dial"))
    return ivr.record(script, urls, purpose="key_worker", prompt=script.key_worker.unavailable)


async def key_worker_dialled(session: AsyncSession, intake: Intake, form: Form,
                             now: datetime) -> VoiceResponse:
    """The key worker's phone stopped ringing: done if they answered, else take a message."""
    contact = await call_contact(session, form, now)
    if form.get("DialCallStatus") in ivr.ANSWERED:
        contact.outcome, contact.updated_at = "connected", now
        return ivr.goodbye(intake.script)
    return ivr.record(intake.script, _urls(intake), purpose="key_worker",
                      prompt=intake.script.key_worker.unavailable)


async def crisis_dialled(session: AsyncSession, intake: Intake, form: Form, *, tier: int,
                         now: datetime) -> VoiceResponse:
    """The crisis route's `Dial` action: done if someone answered, else the next tier."""
    contact = await call_contact(session, form, now)
    return await crisis_step(session, intake, contact, tier=tier, now=now,
                             dial_status=form.get("DialCallStatus"),
                             dial_seconds=form.get("DialCallDuration"))


async def crisis_step(session: AsyncSession, intake: Intake, contact: Contact, *, tier: int,
                      now: datetime, dial_status: str | None = None,
                      dial_seconds: str | None = None) -> VoiceResponse:
    """Option 1 (or no usable input): ring each tier in turn until a human answers."""
    script = intake.script
    if dial_status in ivr.ANSWERED:
        contact.outcome, contact.updated_at = "connected", now
        contact.answered_at = contact.answered_at or answered_at(now, dial_seconds)
        return ivr.goodbye(script)
    contact.ivr_choice = contact.ivr_choice or "crisis"
    settings = intake.kit.settings
    for index in range(max(tier, 0), len(CRISIS_TIERS)):
        role = CRISIS_TIERS[index]
        if role == "crisis_line":
            numbers = [settings.crisis_line_number] if settings.crisis_line_number else []
        else:
            numbers = await lookups.on_duty_numbers(intake.kit.client, role,
                                                    intake.config.lookup_timeout_seconds)
        if numbers:
            log.info("crisis call ringing", extra={"event": "call.crisis_dial",
                                                    "contact_id": contact.id, "step": role,
                                                    "count": len(numbers)})
            return ivr.crisis_dial(script, _urls(intake), tier=index, numbers=numbers,
                                   caller_id=settings.twilio_phone_number, first=tier == 0)
    await crisis_unanswered(session, intake, contact, now)
    return ivr.crisis_end(script)


def answered_at(now: datetime, dial_seconds: str | None) -> datetime:
    """When the dialled person picked up: Twilio calls the `Dial` action when the bridged call
    ends, with its length in `DialCallDuration`; without a usable length, now."""
    try:
        seconds = int(dial_seconds or "0")
    except ValueError:
        seconds = 0
    return now - timedelta(seconds=max(seconds, 0))


async def crisis_unanswered(session: AsyncSession, intake: Intake, contact: Contact,
                            now: datetime) -> None:
    """Nobody answered a crisis call: the duty coordinators are alerted at once, the caller
    goes to the top of the callback list and is texted where to get help now."""
    contact.outcome, contact.updated_at = "crisis_unanswered", now
    log.error("crisis call reached nobody", extra={"event": "call.crisis_unanswered",
                                                   "contact_id": contact.id})
    await _crisis_follow_up(session, intake, contact, reason="crisis_no_answer", now=now)
    await followup.text_person(session, to=contact.from_address,
                               template="crisis_signposting", reference=contact.reference,
                               respond_by=None, key=f"{contact.id}:crisis_signposting", now=now)


async def _crisis_follow_up(session: AsyncSession, intake: Intake, contact: Contact, *,
                            reason: str, now: datetime) -> None:
    """A crisis call that reached nobody: one person (by the number), joined to their open
    emergency referral if they have one, an alert now and a crisis callback."""
    if contact.from_address and contact.person_id is None:
        contact.person_id = await person_for_phone(session, contact.from_address, now,
                                                   create=True)
    if contact.reference is None:
        joined = await followup.open_referral(session, contact.person_id, now,
                                              intake.config.open_referral_days,
                                              urgency="emergency")
        contact.reference = joined.reference if joined else None
    await followup.enqueue_crisis_alert(session, contact_id=contact.id,
                                        reference=contact.reference, now=now)
    if contact.from_address:
        await followup.add_callback(session, intake.replies, contact_id=contact.id,
                                    person_id=contact.person_id, channel="voice",
                                    reason=reason, risk="crisis", reference=contact.reference,
                                    now=now)


async def recorded(session: AsyncSession, intake: Intake, form: Form, *, purpose: str,
                   empty: bool, now: datetime) -> VoiceResponse:
    """A message was left (or nothing was heard): refer or list a callback, then goodbye."""
    contact = await call_contact(session, form, now)
    script = intake.script
    if form.get("RecordingUrl"):
        contact.recording_url = form["RecordingUrl"]
    heard = not empty and bool(form.get("RecordingUrl")) and form.get("RecordingDuration") != "0"
    contact.outcome, contact.updated_at = ("message" if heard else "no_message"), now
    if purpose == "support":
        return await _support_message(session, intake, contact, heard, now)
    risk, reason, thanks = (("medium", "key_worker_message", script.key_worker.thanks)
                            if purpose == "key_worker"
                            else ("routine", "professional_message", script.professionals.thanks))
    if contact.from_address:
        await followup.add_callback(session, intake.replies, contact_id=contact.id,
                                    person_id=contact.person_id, channel="voice", reason=reason,
                                    risk=risk, reference=contact.reference, now=now)
    return ivr.goodbye(script, thanks)


async def _support_message(session: AsyncSession, intake: Intake, contact: Contact, heard: bool,
                           now: datetime) -> VoiceResponse:
    script = intake.script
    if contact.from_address is None:
        return ivr.goodbye(script, script.support.no_number, script.support.signposting)
    if contact.reference is None:  # a repeated request keeps the first reference
        contact.person_id = contact.person_id or await person_for_phone(
            session, contact.from_address, now, create=True)
        contact.reference = await followup.enqueue_self_referral(
            session, contact_id=contact.id, person_id=contact.person_id, source="voice",
            reason=f"Self-referral by voice message: the recording is held by intake "
                   f"(contact {contact.id}).",
            urgency="routine", risk=None, now=now)
    lines = [] if heard else [script.support.nothing_heard]
    said = f"{script.support.thanks} {ivr.spoken_reference(contact.reference)}"
    lines += [said, said,  # twice: a reference is hard to catch the first time
              script.support.callback_promise]
    if may_text(contact.from_address):
        lines.append(script.support.text_promise)
    lines.append(script.support.signposting)
    return ivr.goodbye(script, *lines)


async def recording_ready(session: AsyncSession, form: Form, now: datetime) -> None:
    """Twilio's recording status callback: keep the recording's URL with the call."""
    contact = await call_contact(session, form, now)
    if form.get("RecordingUrl"):
        contact.recording_url = form["RecordingUrl"]


async def transcribed(session: AsyncSession, intake: Intake, form: Form, now: datetime) -> None:
    """Keep the transcription; crisis language in it makes it an emergency: the person's open
    emergency referral (or a new one), an alert, a crisis callback and a text to the caller."""
    contact = await call_contact(session, form, now)
    text = form.get("TranscriptionText") or ""
    contact.body, contact.updated_at = text[: intake.config.email_max_text_chars], now
    check = intake.crisis.check(text)
    if not check.is_crisis or contact.crisis:
        return  # a repeated transcription callback changes nothing more
    contact.crisis = True
    if contact.from_address and contact.person_id is None:
        contact.person_id = await person_for_phone(session, contact.from_address, now,
                                                   create=True)
    open_emergency = await followup.open_referral(session, contact.person_id, now,
                                                  intake.config.open_referral_days,
                                                  urgency="emergency")
    if open_emergency is not None:  # one story: the emergency already open takes it
        reference = open_emergency.reference
    else:  # routed at once, not behind the routine deadline of the message's own referral
        reference = await followup.enqueue_self_referral(
            session, contact_id=contact.id, person_id=contact.person_id, source="voice",
            reason=f"Crisis language in a voice message: held by intake (contact {contact.id}).",
            urgency="emergency", risk=check.risk(), now=now, key_suffix="crisis")
    contact.reference = contact.reference or reference
    log.warning("crisis language in a voice message", extra={
        "event": "call.crisis_message", "contact_id": contact.id, "reference": reference})
    await followup.enqueue_crisis_alert(session, contact_id=contact.id, reference=reference,
                                        now=now)
    await followup.add_callback(session, intake.replies, contact_id=contact.id,
                                person_id=contact.person_id, channel="voice",
                                reason="crisis_message", risk="crisis", reference=reference,
                                now=now)
    await followup.text_person(session, to=contact.from_address, template="crisis_signposting",
                               reference=reference, respond_by=None,
                               key=f"{contact.id}:crisis_signposting", now=now)


async def call_status(session: AsyncSession, intake: Intake, form: Form, now: datetime) -> None:
    """A call ended: one that never reached a human or left a message becomes a callback."""
    status = form.get("CallStatus", "")
    if status not in FINISHED:
        return
    contact = await call_contact(session, form, now)
    if contact.outcome is not None:
        return
    contact.outcome, contact.updated_at = "abandoned", now
    reason = "missed_call" if status in ("busy", "no-answer", "failed") else "abandoned_call"
    if contact.ivr_choice == "crisis":  # hung up while the crisis route was ringing
        await _crisis_follow_up(session, intake, contact, reason=reason, now=now)
        return
    if contact.from_address is None:
        return
    risk = "high"
    await followup.add_callback(session, intake.replies, contact_id=contact.id,
                                person_id=contact.person_id, channel="voice", reason=reason,
                                risk=risk, reference=contact.reference, now=now)
