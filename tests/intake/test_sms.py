"""SMS in: people's texts, crisis language, key workers' replies, STOP/START, retries."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from services.intake import deps
from services.intake.models import Callback, Contact, OutboxMessage
from tests.intake.conftest import outbox_settled, post_twilio
from tests.intake.fakes import FakePeers, mobile, sid, twiml
from tests.support.service import ServiceHarness


def text(message_sid: str, sender: str, body: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": message_sid, "SmsSid": message_sid, "From": sender,
            "To": "+442000000000", "Body": body, "NumMedia": "0", **extra}


def message_of(resp_text: str) -> str | None:
    root = twiml(resp_text)
    found = root.find("Message")
    return None if found is None else found.text


async def contacts_with(intake: ServiceHarness, external_id: str) -> list[Contact]:
    async with intake.kit.db.sessionmaker() as session:
        rows = await session.scalars(select(Contact).where(Contact.external_id == external_id))
        return list(rows)


async def outbox_keys(intake: ServiceHarness, like: str) -> list[str]:
    async with intake.kit.db.sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage.idempotency_key)
                                     .where(OutboxMessage.idempotency_key.like(like)))
        return sorted(rows)


async def test_a_text_gets_a_reference_and_the_response_time_and_later_texts_join_it(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    sender, first_sid = mobile(), sid("SM")
    resp = await post_twilio(intake, "/twilio/sms",
                             text(first_sid, sender, "Could someone help me with my housing?",
                                  FutureTwilioField="1"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    reply = message_of(resp.text)
    [contact] = await contacts_with(intake, first_sid)
    assert contact.reference and contact.person_id and not contact.crisis
    assert reply is not None and contact.reference in reply and "within 7 days" in reply
    assert "housing" not in reply
    [referral] = await peers.wait_for("/internal/referrals")
    assert referral.body["source"] == "sms" and referral.body["urgency"] == "routine"
    assert referral.body["person_id"] == contact.person_id
    later_sid = sid("SM")
    later = message_of((await post_twilio(intake, "/twilio/sms",
                                          text(later_sid, sender, "Also my rent"))).text)
    [joined] = await contacts_with(intake, later_sid)
    assert joined.reference == contact.reference and joined.person_id == contact.person_id
    assert later is not None and "added your message" in later and contact.reference in later
    await outbox_settled(intake)
    assert len(peers.sent("/internal/referrals")) == 1


async def test_crisis_language_gets_the_crisis_numbers_an_emergency_referral_and_an_alert(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    message_sid = sid("SM")
    reply = message_of((await post_twilio(
        intake, "/twilio/sms", text(message_sid, mobile(), "I can't go on, I want to die"))).text)
    assert reply is not None
    for number in ("999", "116 123", "85258"):
        assert number in reply
    [contact] = await contacts_with(intake, message_sid)
    assert contact.crisis
    [referral] = await peers.wait_for("/internal/referrals")
    assert referral.body["urgency"] == "emergency" and referral.body["risk"]["self_harm"]
    [alert] = await peers.wait_for("/internal/alerts")
    assert alert.body["kind"] == "crisis" and alert.body["reference"] == contact.reference
    async with intake.kit.db.sessionmaker() as session:
        callback = await session.scalar(select(Callback)
                                        .where(Callback.contact_id == contact.id))
    assert callback is not None and callback.risk == "crisis"


async def test_a_key_worker_reply_goes_to_notify_and_never_becomes_a_contact(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    def handled(body: dict[str, Any], _: Any) -> tuple[int, Any]:
        return 200, {"handled": True, "reply": f"Thanks, {body['body'].split()[1]} accepted."}

    peers.on("POST", "/internal/replies", handled)
    message_sid, worker = sid("SM"), mobile()
    reply = message_of((await post_twilio(intake, "/twilio/sms",
                                          text(message_sid, worker, "accept K7Q2"))).text)
    assert reply == "Thanks, K7Q2 accepted."
    [asked] = peers.sent("/internal/replies")
    assert asked.body == {"from": worker, "body": "accept K7Q2", "message_sid": message_sid}
    assert await contacts_with(intake, message_sid) == []


async def test_with_notify_down_a_reply_code_is_queued_for_notify_not_taken_as_a_contact(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.delay["/internal/replies"] = 1.0
    deps.of(intake.kit).config.reply_timeout_seconds = 0.2
    message_sid = sid("SM")
    reply = message_of((await post_twilio(intake, "/twilio/sms",
                                          text(message_sid, mobile(), "DECLINE K7Q2"))).text)
    assert reply is not None and "confirm" in reply
    assert await contacts_with(intake, message_sid) == []
    assert await outbox_keys(intake, f"reply:{message_sid}") == [f"reply:{message_sid}"]
    # An ordinary text while notify is down is still a person's contact.
    other = sid("SM")
    await post_twilio(intake, "/twilio/sms", text(other, mobile(), "hello, I need advice"))
    assert len(await contacts_with(intake, other)) == 1


async def test_stop_silences_replies_until_start(intake: ServiceHarness) -> None:
    sender = mobile()
    stopped = message_of((await post_twilio(intake, "/twilio/sms",
                                            text(sid("SM"), sender, "STOP"))).text)
    assert stopped is not None and "no more texts" in stopped
    quiet_sid = sid("SM")
    quiet = await post_twilio(intake, "/twilio/sms", text(quiet_sid, sender, "hello again"))
    assert message_of(quiet.text) is None
    assert len(await contacts_with(intake, quiet_sid)) == 1  # still recorded
    started = message_of((await post_twilio(intake, "/twilio/sms",
                                            text(sid("SM"), sender, "start"))).text)
    assert started is not None and "back on" in started
    reply = message_of((await post_twilio(intake, "/twilio/sms",
                                          text(sid("SM"), sender, "are you there?"))).text)
    assert reply is not None


async def test_the_same_message_sid_at_the_same_moment_gives_one_contact_and_one_reply(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    message_sid, sender = sid("SM"), mobile()
    form = text(message_sid, sender, "I would like some support please")
    answers = await asyncio.gather(*(post_twilio(intake, "/twilio/sms", form) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    replies = {message_of(a.text) for a in answers}
    assert len(replies) == 1 and None not in replies
    [contact] = await contacts_with(intake, message_sid)
    assert await outbox_keys(intake, f"referral:{contact.id}") == [f"referral:{contact.id}"]
    async with intake.kit.db.sessionmaker() as session:
        people = await session.scalar(select(func.count(func.distinct(Contact.person_id)))
                                      .where(Contact.from_address == sender))
    assert people == 1


async def test_a_text_without_a_message_sid_is_refused_clearly(intake: ServiceHarness) -> None:
    resp = await post_twilio(intake, "/twilio/sms", {"From": mobile(), "Body": "hi"})
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
