"""Emails the line sends (acknowledgements, signposting): a small sender Protocol, an SMTP
sender and a dry-run recorder."""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    sender: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None = None
    # RFC 3834: an acknowledgement answers a message; a signposting email answers nothing.
    # Either way other robots do not answer back.
    auto_submitted: str = "auto-replied"

    def to_message(self) -> EmailMessage:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, self.to, self.subject
        msg["Message-ID"], msg["Date"] = self.message_id, formatdate(localtime=False)
        msg["Auto-Submitted"] = self.auto_submitted
        if self.in_reply_to:
            msg["In-Reply-To"] = msg["References"] = self.in_reply_to
        msg.set_content(self.body)
        return msg


def new_message_id(sender: str) -> str:
    """A Message-ID in the domain of our own address."""
    return make_msgid(domain=sender.rpartition("@")[2] or "livingwell.example")


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Send one email or raise (the outbox retries)."""


class RecordingEmailSender:
    """Dry-run transport: keeps what would have been sent (and, given a path, writes each as a
    JSON line there, so a developer can read it)."""

    def __init__(self, path: Path | None = None) -> None:
        self.sent: list[OutgoingEmail] = []
        self.path = path

    async def send(self, email: OutgoingEmail) -> None:
        self.sent.append(email)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"to": email.to, "subject": email.subject,
                                     "message_id": email.message_id}) + "\n")
        log.info("email recorded (dry run)", extra={"event": "email.dry_run"})


class SmtpEmailSender:
    """`smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://…:465`."""

    def __init__(self, url: str, timeout: float = 20.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, email: OutgoingEmail) -> None:
        await asyncio.to_thread(self._send, email.to_message())

    def _send(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


def email_sender_for(smtp_url: str | None, dry_run_path: Path | None = None) -> EmailSender:
    """The SMTP sender when SMTP_URL is set, else the dry-run recorder."""
    return SmtpEmailSender(smtp_url) if smtp_url else RecordingEmailSender(dry_run_path)
