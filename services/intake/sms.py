"""SMS to the single number: STOP/START, key workers' replies (to notify), people's messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import enqueue
from services.common.phone import person_number
from services.intake import messages, repository
from services.intake.deps import Intake
from services.intake.models import OutboxMessage
from services.intake.people import normal_phone, person_for_sender

log = logging.getLogger(__name__)
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_WORDS = frozenset({"start", "unstop"})
REPLY_CODE = re.compile(r"^\s*(accept|decline)\s+[a-z0-9-]{3,20}\s*[.!]?\s*$", re.IGNORECASE)


def keyword(body: str) -> Literal["stop", "start"] | None:
    """A one-word opt-out or opt-in, as carriers and Twilio understand them."""
    word = body.strip().strip(".!").lower()
    return "stop" if word in STOP_WORDS else "start" if word in START_WORDS else None


async def opt(session: AsyncSession, intake: Intake, sender: str | None, word: str,
              now: datetime) -> str | None:
    """Honour STOP / START for this number; the confirmation to send back, if any."""
    phone = normal_phone(sender)
    if phone is None:
        return None
    await repository.set_opt_out(session, phone, word == "stop", now)
    log.info("sms preference changed", extra={"event": f"sms.{word}"})
    return intake.replies.sms.stopped if word == "stop" else intake.replies.sms.started


async def pass_to_notify(intake: Intake, form: Mapping[str, str]) -> dict[str, object] | None:
    """Step 5 of the internal API: notify takes the text if it is a key worker's reply (and
    acts on it: an ACCEPT accepts); its verdict, or None when notify cannot say now."""
    payload = {"from": form.get("From", ""), "body": form.get("Body", ""),
               "message_sid": form["MessageSid"]}
    try:
        resp = await intake.kit.client.post("notify", "/internal/replies", payload,
                                            timeout=intake.config.reply_timeout_seconds)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("notify did not answer about a reply", extra={
            "event": "sms.notify_unavailable", "error": type(exc).__name__})
        return None
    if not resp.ok or not isinstance(resp.body, dict):
        log.warning("notify refused a reply check", extra={"event": "sms.notify_refused",
                                                            "status": resp.status})
        return None
    return resp.body


async def enqueue_for_notify(session: AsyncSession, form: Mapping[str, str],
                             now: datetime) -> None:
    """Notify is down but this looks like a worker's reply (ACCEPT/DECLINE or STOP): hand it
    over through the outbox."""
    key = f"reply:{form['MessageSid']}"
    if not await repository.outbox_key_taken(session, key):
        enqueue(session, OutboxMessage, key=key, target="notify", path="/internal/replies",
                now=now, payload={"from": form.get("From", ""), "body": form.get("Body", ""),
                                  "message_sid": form["MessageSid"]})


async def from_person(session: AsyncSession, intake: Intake, form: Mapping[str, str],
                      now: datetime) -> str | None:
    """A person's message: a contact, a referral or a join, and the reply (None if opted out)."""
    raw = (form.get("From") or "")[:320] or None
    number = person_number(raw)
    sender = number.e164 if number else None
    body = form.get("Body", "")[:5000]
    thread = await messages.quoted_reference(session, body)  # even in a crisis text
    person_id = await person_for_sender(session, "phone", sender, thread, now)
    incoming = messages.IncomingMessage(
        channel="sms", external_id=form["MessageSid"][:400], from_address=sender or raw,
        person_id=person_id, body=body, thread_reference=thread, from_raw=raw,
        from_verified=number.verified if number else None)
    outcome = await messages.take(session, intake, incoming, now, messages.sms_reply(intake))
    if sender and await repository.is_opted_out(session, sender):
        return None
    return outcome.contact.reply


async def receive(session: AsyncSession, intake: Intake, form: Mapping[str, str],
                  now: datetime) -> str | None:
    """One text to the single number; the reply to send back, if any.

    STOP and START change the number's preference. Notify is offered every other text first:
    a key worker's ACCEPT/DECLINE is its business and never a contact. Anything else from a
    person becomes a contact."""
    word = keyword(form.get("Body", ""))
    if word is not None:
        if word == "stop":
            # A key worker opting out mid-handoff must reach notify, which alerts the duty
            # coordinator and switches to calls; through the outbox if it cannot answer now.
            stop_verdict = await pass_to_notify(intake, form)
            if stop_verdict is None:
                await enqueue_for_notify(session, form, now)
        return await opt(session, intake, form.get("From"), word, now)
    verdict = await pass_to_notify(intake, form)
    if verdict is not None and verdict.get("handled"):
        reply = verdict.get("reply")
        return reply if isinstance(reply, str) else None
    if verdict is None and REPLY_CODE.match(form.get("Body", "")):
        await enqueue_for_notify(session, form, now)
        return intake.replies.sms.reply_pending
    return await from_person(session, intake, form, now)
