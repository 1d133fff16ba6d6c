"""Signposting by email: referral hands intake a network service's public details; intake
records each delivery once and sends one plain-text email through its sender (retried while
the mail server is down), carrying the service's details and how to reach the line, nothing
about the person."""

from __future__ import annotations

import json
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from services.common.context import H_ACTOR_KIND
from services.intake.app import create_app
from services.intake.mail_out import OutgoingEmail, RecordingEmailSender
from services.intake.settings import IntakeSettings
from services.intake.signposts import SUBJECT
from tests.conftest import make_settings
from tests.intake.conftest import outbox_settled
from tests.support.service import ServiceHarness, running_service
from tests.support.waiting import eventually

PATH = "/internal/signpost-emails"
LINE = "help@livingwell.example"
DETAILS = {"name": "Example: Stockwell Debt Advice", "phone": "020 7946 0102",
           "url": "https://example.org/stockwell_debt_advice",
           "opening": "Mon-Fri 09:00-17:00, Sat 10:00-13:00"}


def message(to: str, **details: Any) -> dict[str, Any]:
    key = str(uuid.uuid4())
    return {"message_key": key, "to": to, **DETAILS, **details}


async def post(intake: ServiceHarness, msg: dict[str, Any], key: str | None = None,
               **headers: str) -> Any:
    delivery = key or f"signpost:{msg['message_key']}"
    return await intake.client.post(PATH, json=msg,
                                    headers={"Idempotency-Key": delivery, **headers})


async def sent_to(sender: RecordingEmailSender, to: str) -> list[OutgoingEmail]:
    async def found() -> list[OutgoingEmail] | None:
        mine = [m for m in sender.sent if m.to == to]
        return mine or None

    return await eventually(found, interval=0.02, what=f"an email to {to}")


async def test_each_delivery_is_applied_once_and_one_email_is_sent(
        intake: ServiceHarness, email_sender: RecordingEmailSender) -> None:
    to = f"person-{uuid.uuid4().hex[:8]}@example.org"
    msg = message(to)
    first = await post(intake, msg)
    again = await post(intake, msg)  # referral's relay retrying after a lost answer
    other_key = await post(intake, msg, key="signpost:resent-by-hand")  # same message_key
    assert first.status_code == again.status_code == other_key.status_code == 200, first.text
    assert first.json() == again.json() == {"message_key": msg["message_key"], "queued": True}
    await sent_to(email_sender, to)
    await outbox_settled(intake)
    assert len([m for m in email_sender.sent if m.to == to]) == 1


async def test_the_email_holds_the_services_details_how_to_reach_the_line_and_nothing_else(
        intake: ServiceHarness, email_sender: RecordingEmailSender) -> None:
    to = f"agnieszka.nowakowska-{uuid.uuid4().hex[:6]}@example.org"
    # A name with line breaks stays one line: it cannot write lines of its own.
    resp = await post(intake, message(to, name="Example: Stockwell\nDebt   Advice"))
    assert resp.status_code == 200, resp.text
    [email] = await sent_to(email_sender, to)
    assert email.subject == SUBJECT and "Stockwell" not in email.subject
    assert email.sender == LINE
    assert email.body == (
        "Hello,\n\n"
        "As agreed, here are the details of a service that may help.\n\n"
        "Example: Stockwell Debt Advice\n"
        "Phone: 020 7946 0102\n"
        "Web: https://example.org/stockwell_debt_advice\n"
        "Open: Mon-Fri 09:00-17:00, Sat 10:00-13:00\n\n"
        "To reach the Living Well Line, call 020 0000 0000 or email help@livingwell.example.\n\n"
        "If you or anyone else is in danger now, call 999.\n\n"
        "Living Well Line\n")
    assert "agnieszka" not in email.body.lower() and "nowakowska" not in email.body.lower()
    mime = message_from_bytes(email.to_message().as_bytes(), policy=policy.default)
    assert mime.get_content_type() == "text/plain"
    assert mime["Auto-Submitted"] == "auto-generated"  # not a reply, and not to be answered


async def test_a_service_without_phone_web_or_hours_leaves_those_lines_out(
        intake: ServiceHarness, email_sender: RecordingEmailSender) -> None:
    to = f"person-{uuid.uuid4().hex[:8]}@example.org"
    resp = await post(intake, message(to, phone=None, url=None, opening=None))
    assert resp.status_code == 200, resp.text
    [email] = await sent_to(email_sender, to)
    assert "Example: Stockwell Debt Advice\n\nTo reach the Living Well Line" in email.body
    assert "Phone:" not in email.body and "Web:" not in email.body


class DownThenUp(RecordingEmailSender):
    """A mail server that refuses the first sends, as one that is down for a while."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send(self, email: OutgoingEmail) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("mail server down")
        await super().send(email)


async def test_a_mail_server_that_is_down_delays_the_email_and_never_loses_it(
        database_url: str, tmp_path: Path, intake_config: IntakeSettings) -> None:
    sender = DownThenUp(failures=2)
    settings = make_settings(database_url, tmp_path)
    async with running_service("intake", lambda s: create_app(s, intake_config, sender),
                               settings) as harness:
        to = f"person-{uuid.uuid4().hex[:8]}@example.org"
        assert (await post(harness, message(to))).status_code == 200
        await eventually(lambda: [m for m in sender.sent if m.to == to] or None,
                         timeout=15, interval=0.05, what="the email once the server is back")
        assert sender.failures == 0
        await outbox_settled(harness)
        assert len(sender.sent) == 1


async def test_without_smtp_url_the_email_is_written_to_the_dry_run_file(
        database_url: str, tmp_path: Path, intake_config: IntakeSettings) -> None:
    settings = make_settings(database_url, tmp_path)
    dry_run = tmp_path / "dry-run" / "email.jsonl"
    async with running_service("intake", lambda s: create_app(s, intake_config), settings) \
            as harness:
        to = f"person-{uuid.uuid4().hex[:8]}@example.org"
        assert (await post(harness, message(to))).status_code == 200
        await outbox_settled(harness)
    lines = [json.loads(line) for line in dry_run.read_text(encoding="utf-8").splitlines()]
    assert [(x["to"], x["subject"]) for x in lines] == [(to, SUBJECT)]


async def test_only_sibling_services_reach_the_route(intake: ServiceHarness) -> None:
    msg = message("person@example.org")
    for kind in ("person", "key", "twilio", "email", "anonymous"):
        resp = await post(intake, msg, **{H_ACTOR_KIND: kind})
        assert resp.status_code == 404, (kind, resp.text)
    bad = await post(intake, message("not an address"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "to"
