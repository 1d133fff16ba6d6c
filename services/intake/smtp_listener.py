"""An SMTP listener (aiosmtpd) for an on-premises MX, feeding the same pipeline as the webhook.

It runs on the service's own event loop (not aiosmtpd's threaded Controller) so the
pipeline uses the same database engine as every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake import mail_in
from services.intake.deps import Intake

log = logging.getLogger(__name__)


class IntakeSmtpHandler:
    """Accepts mail for the single address only; each message goes through the pipeline."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if not mail_in.addressed_to(self.intake.kit.settings.email_address, address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Unit of work: one message, stored in a transaction of its own. SMTP has no request
        session; the 250 is only said once the message is committed, so a failure is a 451
        and the sending server tries again (nothing is lost)."""
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        try:
            mail = mail_in.from_mime(data, self.intake.config.email_max_text_chars)
        except mail_in.UnreadableEmail:
            return "554 5.6.0 The message could not be read as email"
        kit = self.intake.kit
        try:
            async with kit.db.sessionmaker() as db, db.begin():
                outcome = await mail_in.receive(db, self.intake, mail, kit.clock.now())
        except Exception:
            log.exception("email from SMTP not stored", extra={"event": "email.smtp_failed"})
            return "451 4.3.0 Temporary failure, please try again later"
        log.info("email received by SMTP", extra={"event": "email.smtp_received",
                                                  "contact_id": outcome.contact.id})
        return "250 2.0.0 Message accepted"


@asynccontextmanager
async def smtp_listener(intake: Intake, host: str, port: int) -> AsyncIterator[Any]:
    """Listen on host:port while the service runs."""
    # aiosmtpd logs every command (sender addresses included) at INFO: keep them out.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = IntakeSmtpHandler(intake)
    limit = intake.config.email_max_bytes
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=limit, enable_SMTPUTF8=True,
                     hostname="livingwell-intake", ident="Living Well Line intake"),
        host=host, port=port)
    log.info("SMTP listener started", extra={"event": "email.smtp_listening", "port": port})
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()
