"""Email to the single address, from the provider's webhook or our SMTP listener: one pipeline.

De-duplicated by Message-ID (a message without one gets a stable id from its content),
threaded by a reference in the subject or by `In-Reply-To` / `References`, acknowledged once
by email with the reference (through the outbox, so a mail server outage delays it only).
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import enqueue
from services.intake import messages, repository
from services.intake.deps import Intake
from services.intake.mail_out import EmailSender, OutgoingEmail, new_message_id
from services.intake.models import Contact, OutboxMessage
from services.intake.people import normal_email, person_for_sender

log = logging.getLogger(__name__)
ACK_HANDLER = "intake.send_ack"
MESSAGE_ID = re.compile(r"<[^<>\s]{1,380}>")


class UnreadableEmail(ValueError):
    """Nothing in the request can be taken as an email."""


@dataclass(frozen=True)
class InboundEmail:
    message_id: str
    sender: str | None
    sender_raw: str  # the From header as written (kept; `sender` is the normalised address)
    subject: str
    text: str
    in_reply_to: tuple[str, ...]
    automated: bool


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop the message being stored
        return ""
    return str(value or "")


def _ids(*values: str) -> tuple[str, ...]:
    return tuple(m for v in values for m in MESSAGE_ID.findall(v or ""))


def _strip_html(raw: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", raw)
    text = re.sub(r"(?s)<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def _is_automated(headers: Message) -> bool:
    auto = _header(headers, "Auto-Submitted").lower()
    precedence = _header(headers, "Precedence").lower()
    return (auto not in ("", "no") or precedence in ("bulk", "junk", "list")
            or bool(_header(headers, "List-Id")))


def _finish(headers: Message, sender: str, subject: str, text: str, limit: int) -> InboundEmail:
    text = text.replace("\x00", "")
    if len(text) > limit:
        text = text[:limit] + "\n[message cut here: too long to store in full]"
    subject = " ".join(subject.replace("\x00", "").split())[:1000]
    found = _ids(_header(headers, "Message-ID"))
    if found:
        message_id = found[0]
    else:  # stable for a re-delivery of the same message
        digest = hashlib.sha256("\x1f".join((sender, subject, _header(headers, "Date"), text))
                                .encode("utf-8", "replace")).hexdigest()[:40]
        message_id = f"<{digest}@no-message-id.intake>"
    return InboundEmail(
        message_id=message_id, sender=normal_email(parseaddr(sender)[1]),
        sender_raw=sender.replace("\x00", "")[:320], subject=subject,
        text=text, automated=_is_automated(headers),
        in_reply_to=_ids(_header(headers, "In-Reply-To"), _header(headers, "References")))


def _body_of(msg: Message) -> str:
    """The plain text (or HTML made plain) of a parsed message; never raises."""
    part: Any = msg
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain", "html")) or msg
    if part.is_multipart():
        return ""
    try:
        content = part.get_content()
    except Exception:  # unknown charset or broken transfer encoding: keep what we can
        raw = part.get_payload(decode=True) or b""
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if not isinstance(content, str):
        content = content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
    return _strip_html(content) if part.get_content_type() == "text/html" else content


def from_mime(raw: bytes, limit: int) -> InboundEmail:
    """A whole RFC 5322 message (SMTP, or SendGrid's raw mode)."""
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        raise UnreadableEmail("The message could not be parsed as MIME.") from exc
    return _finish(msg, _header(msg, "From"), _header(msg, "Subject"), _body_of(msg), limit)


def from_sendgrid(form: Mapping[str, str], limit: int) -> InboundEmail:
    """SendGrid Inbound Parse fields (`from`, `subject`, `text`, `html`, `headers`, …)."""
    if form.get("email"):
        return from_mime(form["email"].encode("utf-8", "surrogateescape"), limit)
    if not form.get("from") and not form.get("headers"):
        raise UnreadableEmail("Neither `from` nor `headers` was posted.")
    headers = HeaderParser(policy=policy.compat32).parsestr(form.get("headers", ""))
    text = form.get("text") or _strip_html(form.get("html", ""))
    sender = form.get("from") or _header(headers, "From")
    return _finish(headers, sender, form.get("subject") or _header(headers, "Subject"), text,
                   limit)


def addressed_to(address: str, *fields: str) -> bool:
    """Whether our single address is among these To/Cc/envelope values."""
    wanted = address.lower()
    return any(a.lower() == wanted for _, a in getaddresses(list(fields)))


async def _thread(session: AsyncSession, mail: InboundEmail) -> str | None:
    found = await messages.quoted_reference(session, mail.subject)
    if found:
        return found
    for message_id in reversed(mail.in_reply_to):
        earlier = await repository.contact_by_message_id(session, message_id)
        if earlier is not None and earlier.reference:
            return earlier.reference
    return None


def _ack_renderer(intake: Intake) -> messages.ReplyRenderer:
    words = intake.replies

    def render(reference: str, urgency: str, crisis: bool, joined: bool) -> str:
        body = words.email.body.format(reference=reference,
                                       response_time=words.response_time(urgency))
        return (" ".join(words.sms.crisis.format(reference=reference).split()) + "\n\n" + body
                if crisis else body)

    return render


async def receive(session: AsyncSession, intake: Intake, mail: InboundEmail,
                  now: datetime) -> messages.Outcome:
    """Record the email once, refer or join, and queue the acknowledgement."""
    thread = await _thread(session, mail)  # a crisis email joins its thread's person too
    person_id = await person_for_sender(session, "email", mail.sender, thread, now)
    incoming = messages.IncomingMessage(
        channel="email", external_id=mail.message_id, from_address=mail.sender,
        person_id=person_id, body=mail.text, subject=mail.subject, thread_reference=thread,
        from_raw=mail.sender_raw or None)
    outcome = await messages.take(session, intake, incoming, now, _ack_renderer(intake))
    contact = outcome.contact
    own = intake.kit.settings.email_address.lower()
    if (not outcome.duplicate and mail.sender and not mail.automated and mail.sender != own
            and contact.reference):
        enqueue_ack(session, intake, contact, to=mail.sender, in_reply_to=mail.message_id,
                    now=now)
    return outcome


def enqueue_ack(session: AsyncSession, intake: Intake, contact: Contact, *, to: str,
                in_reply_to: str | None, now: datetime) -> None:
    """Queue the one acknowledgement of this contact (its stored reply, under a subject with
    its reference) and keep its Message-ID, so an answer to it joins the same thread."""
    sender = intake.kit.settings.email_address
    ack_id = new_message_id(sender)
    contact.ack_message_id = ack_id
    enqueue(session, OutboxMessage, key=f"ack:{contact.id}", target="local", path=ACK_HANDLER,
            now=now, payload={
                "to": to, "sender": sender, "message_id": ack_id, "in_reply_to": in_reply_to,
                "body": contact.reply,
                "subject": intake.replies.email.subject.format(reference=contact.reference)})


async def send_ack(sender: EmailSender, payload: dict[str, Any]) -> None:
    """Send one queued acknowledgement (raises, so the outbox retries, when it cannot)."""
    await sender.send(OutgoingEmail(
        to=payload["to"], sender=payload["sender"], subject=payload["subject"],
        body=payload["body"], message_id=payload["message_id"],
        in_reply_to=payload.get("in_reply_to")))
