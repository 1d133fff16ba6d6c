"""Intake's side of the contact form: `/internal/web-contacts` is one more way in to the same
pipeline as texts and emails (person index, triage, reference, acknowledgement)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select

from services.common.promises import promises, words_for
from services.intake.mail_out import RecordingEmailSender
from services.intake.models import Contact, OutboxMessage
from tests.intake.conftest import (  # noqa: F401 - fixtures
    email_sender,
    intake,
    intake_config,
    peers,
    post_twilio,
)
from tests.intake.fakes import FakePeers, mobile, sid
from tests.support.service import ServiceHarness
from tests.support.stack import eventually


def form(**values: Any) -> dict[str, Any]:
    return {"token": secrets.token_urlsafe(18), "message": "I have been feeling low.",
            **values}


async def send(intake: ServiceHarness, body: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    resp = await intake.client.post("/internal/web-contacts", json=body)
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


async def contact(intake: ServiceHarness, contact_id: str) -> Contact:  # noqa: F811
    async with intake.kit.db.sessionmaker() as session:
        found = await session.get(Contact, contact_id)
        assert found is not None
        return found


async def test_a_message_gets_a_reference_and_a_double_submit_is_one_contact(
        intake: ServiceHarness) -> None:  # noqa: F811
    body = form(name="Sam", preferred_way="any", preferred_time="evening")
    first = await send(intake, body)
    again = await send(intake, body)
    assert first["reference"].startswith("LW-") and not first["crisis"] and not first["held"]
    window = promises().window(first["urgency"])  # the routing rules', as texts promise
    assert first["response_time"] == words_for(window)
    assert first["response_window_seconds"] == int(window.total_seconds())
    assert again["reference"] == first["reference"] and again["duplicate"]
    assert again["contact_id"] == first["contact_id"]
    stored = await contact(intake, first["contact_id"])
    assert stored.channel == "web" and stored.body and "Name given: Sam" in stored.body


async def test_crisis_words_raise_an_emergency_and_alert_the_coordinators(
        intake: ServiceHarness, peers: FakePeers) -> None:  # noqa: F811
    answer = await send(intake, form(message="I want to kill myself tonight"))
    assert answer["crisis"] and answer["urgency"] == "emergency"
    alerts = await peers.wait_for("/internal/alerts")
    assert any(c.body["reference"] == answer["reference"] for c in alerts)


async def test_phq9_item_9_above_0_sent_with_the_message_counts_as_crisis(
        intake: ServiceHarness) -> None:  # noqa: F811
    answer = await send(intake, form(message="Here are my answers.", phq9=6, phq9_item9=1))
    assert answer["crisis"] and answer["urgency"] == "emergency"


async def test_the_honeypot_holds_the_message_without_a_referral_unless_it_is_a_crisis(
        intake: ServiceHarness) -> None:  # noqa: F811
    held = await send(intake, form(message="cheap watches", suspected_spam=True))
    assert held["held"] and held["reference"] is None
    assert (await contact(intake, held["contact_id"])).outcome == "held_spam"
    urgent = await send(intake, form(message="I want to end my life", suspected_spam=True))
    assert urgent["crisis"] and urgent["reference"] and not urgent["held"]


async def test_an_email_address_gets_the_reference_by_email(
        intake: ServiceHarness, email_sender: RecordingEmailSender) -> None:  # noqa: F811
    address = f"web-{uuid.uuid4().hex[:8]}@example.org"
    answer = await send(intake, form(email=address))
    mine = await eventually(lambda: [m for m in email_sender.sent if m.to == address],
                            what="the acknowledgement email")
    assert answer["reference"] in mine[0].subject
    assert "low" not in mine[0].body  # the acknowledgement never repeats the message


async def test_a_mobile_that_prefers_texts_is_texted_once_the_referral_is_routed(
        intake: ServiceHarness, peers: FakePeers) -> None:  # noqa: F811
    phone = mobile()
    answer = await send(intake, form(phone=phone, preferred_way="text"))
    texts = await peers.wait_for("/internal/person-messages")
    mine = [c for c in texts if c.body["to"] == phone]
    assert mine and mine[0].body["reference"] == answer["reference"]
    assert mine[0].body["template"] == "caller_confirmation"


async def test_someone_who_writes_and_later_texts_is_one_person(
        intake: ServiceHarness) -> None:  # noqa: F811
    phone = mobile()
    answer = await send(intake, form(phone=phone.replace("+44", "0")))
    written = await contact(intake, answer["contact_id"])
    resp = await post_twilio(intake, "/twilio/sms", {
        "MessageSid": (message_sid := sid("SM")), "From": phone, "To": "+442000000000",
        "Body": "hello again", "NumMedia": "0"})
    assert resp.status_code == 200
    async with intake.kit.db.sessionmaker() as session:
        texted = await session.scalar(select(Contact).where(Contact.external_id == message_sid))
    assert texted is not None and written.person_id and texted.person_id == written.person_id
    assert texted.reference == answer["reference"]  # the text joins the same referral


async def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(
        intake: ServiceHarness) -> None:  # noqa: F811
    token = secrets.token_urlsafe(18)
    resp = await intake.client.post("/internal/web-contacts",
                                    json={"token": token, "message": "   "})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert ["message"] in [e["loc"][-1:] for e in resp.json()["errors"]]
    async with intake.kit.db.sessionmaker() as session:
        assert await session.scalar(select(Contact).where(
            Contact.external_id == f"web:{token}")) is None
        assert await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.like("%web:" + token))) is None
