"""The acknowledgement sender: SMTP for real, or the dry-run recorder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.intake.mail_out import (
    OutgoingEmail,
    RecordingEmailSender,
    SmtpEmailSender,
    email_sender_for,
)


class Sink:
    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[Sink, int]]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, auth_require_tls=False,
                                                   hostname="sink"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield sink, port
    server.close()
    await server.wait_closed()


ACK = OutgoingEmail(to="gp@surgery.example", sender="help@livingwell.example",
                    subject="Living Well Line: your reference LW-AAAA-BBBB",
                    body="Your reference is LW-AAAA-BBBB.", message_id="<ack-1@livingwell.example>",
                    in_reply_to="<orig@surgery.example>")


async def test_the_smtp_sender_delivers_a_threaded_automatic_reply(
    smtp_server: tuple[Sink, int],
) -> None:
    sink, port = smtp_server
    await SmtpEmailSender(f"smtp://127.0.0.1:{port}").send(ACK)
    [envelope] = sink.received
    assert envelope.rcpt_tos == ["gp@surgery.example"]
    assert isinstance(envelope.content, bytes)
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert msg["Message-ID"] == "<ack-1@livingwell.example>"
    assert msg["In-Reply-To"] == "<orig@surgery.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert "LW-AAAA-BBBB" in msg.get_body().get_content()  # type: ignore[union-attr]


async def test_an_unreachable_mail_server_raises_so_the_outbox_retries() -> None:
    with pytest.raises(OSError):
        await SmtpEmailSender("smtp://127.0.0.1:1", timeout=2).send(ACK)


def test_smtp_urls_are_read_with_credentials_and_tls_choice() -> None:
    sender = SmtpEmailSender("smtps://mail%40org:p%40ss@mail.example")
    assert (sender.host, sender.port, sender.tls) == ("mail.example", 465, True)
    assert (sender.user, sender.password) == ("mail@org", "p@ss")
    assert SmtpEmailSender("smtp://mail.example:587").tls is False
    with pytest.raises(ValueError):
        SmtpEmailSender("http://mail.example")


def test_without_smtp_url_acknowledgements_go_to_the_dry_run_recorder() -> None:
    assert isinstance(email_sender_for(None), RecordingEmailSender)
    assert isinstance(email_sender_for("smtp://mail.example:25"), SmtpEmailSender)


async def test_the_dry_run_writes_each_acknowledgement_where_a_developer_can_read_it(
    tmp_path: Path,
) -> None:
    import json

    from services.intake.mail_out import email_sender_for

    record = tmp_path / "dry-run" / "email.jsonl"
    sender = email_sender_for(None, record)
    await sender.send(OutgoingEmail(to="someone@example.org", sender="help@livingwell.example",
                                    subject="Your reference LW-AAAA-BBBB", body="…",
                                    message_id="<m1@livingwell.example>"))
    [line] = record.read_text().splitlines()
    assert json.loads(line)["subject"] == "Your reference LW-AAAA-BBBB"
