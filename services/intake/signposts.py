"""A network service's public details emailed to a person: referral's signposting by email.

Referral records the signpost and the person's agreement, and hands the message to intake
because intake holds the line's mail transport. Intake applies each delivery once (its
inbox), writes the email from the service's public details alone (name, phone, web address,
opening times) and how to reach the line, never anything about the person, and queues it on
its own outbox: a mail server that is down delays the email, and never loses it.

The subject names no service, so an inbox preview seen by someone else does not say what
kind of help the person is getting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import inbox
from services.common.outbox import enqueue
from services.intake import repository
from services.intake.mail_out import EmailSender, OutgoingEmail, new_message_id
from services.intake.models import InboxEntry, OutboxMessage

log = logging.getLogger(__name__)
SEND_HANDLER = "intake.send_signpost_email"
SUBJECT = "Living Well Line: the details we agreed to send you"


@dataclass(frozen=True, slots=True)
class ServiceDetails:
    """What the person is sent: the service's public details, as the directory holds them."""

    name: str
    phone: str | None
    url: str | None
    opening: str | None


def _one_line(value: str | None) -> str | None:
    # Each detail stays on its own line: a name with line breaks in it cannot add lines of
    # its own that read as if the line had written them.
    text = " ".join((value or "").split())
    return text or None


def line_number(e164: str) -> str:
    """The line's own number as people read it (`020 0000 0000`)."""
    try:
        parsed = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


def body(details: ServiceDetails, *, line_phone: str, line_email: str) -> str:
    """The email's plain text: the service's details, how to reach the line, and 999."""
    lines = ["Hello,", "", "As agreed, here are the details of a service that may help.", "",
             _one_line(details.name) or "A Living Well Network service"]
    for label, value in (("Phone", details.phone), ("Web", details.url),
                         ("Open", details.opening)):
        if (text := _one_line(value)) is not None:
            lines.append(f"{label}: {text}")
    lines += ["", f"To reach the Living Well Line, call {line_phone} or email {line_email}.",
              "", "If you or anyone else is in danger now, call 999.", "",
              "Living Well Line"]
    return "\n".join(lines) + "\n"


async def take(session: AsyncSession, *, delivery_key: str | None, message_key: str, to: str,
               details: ServiceDetails, line_phone: str, sender: str,
               now: datetime) -> dict[str, Any]:
    """Queue the email once per delivery (`delivery_key`, else `message_key`), and never
    twice for one `message_key`; a repeat gets the first answer."""
    inbox_key = f"signpost-email:{delivery_key or message_key}"
    done = await inbox.seen(session, InboxEntry, inbox_key)
    if done is not None and done.response is not None:
        return dict(done.response)
    row_key = f"signpost-email:{message_key}"
    if not await repository.outbox_key_taken(session, row_key):
        enqueue(session, OutboxMessage, key=row_key, target="local", path=SEND_HANDLER,
                now=now, payload={
                    "message_key": message_key, "to": to, "sender": sender,
                    "message_id": new_message_id(sender), "subject": SUBJECT,
                    "body": body(details, line_phone=line_phone, line_email=sender)})
    answer = {"message_key": message_key, "queued": True}
    inbox.remember(session, InboxEntry, inbox_key, answer, now)
    return answer


async def send(sender: EmailSender, payload: dict[str, Any]) -> None:
    """Send one queued signposting email (raises, so the outbox retries, when it cannot)."""
    await sender.send(OutgoingEmail(
        to=payload["to"], sender=payload["sender"], subject=payload["subject"],
        body=payload["body"], message_id=payload["message_id"],
        auto_submitted="auto-generated"))
    log.info("signposting email sent", extra={"event": "signpost.email_sent",
                                               "message_id": payload["message_key"]})
