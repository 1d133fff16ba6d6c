"""The front door never loses a person: numbers the metadata does not know, crisis calls nobody
answered, crisis voicemails, and one story joined across channels (issue 12)."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from services.common.phone import may_text, person_number, to_e164
from services.intake.models import Callback, Contact, OutboxMessage, PersonIdentifier
from services.keyperson.schemas import KeyWorkerCreate
from services.notify.schemas import PersonMessageIn
from services.referral.schemas import ReferralCreate
from tests.intake.conftest import post_twilio
from tests.intake.fakes import FakePeers, mobile, sid
from tests.intake.test_email import message_id, post_email, sender, sendgrid
from tests.intake.test_sms import message_of, text
from tests.intake.test_voice import call, rota
from tests.support.service import ServiceHarness, key_headers
from tests.support.waiting import eventually

STAFF = key_headers("Living Well Hub", "staff")


def unlisted() -> str:
    """A possible UK mobile in a range `phonenumbers` does not list (like +447911300001)."""
    return f"+4479113{random.randint(0, 99999):05d}"


def referral(phone: str) -> dict[str, object]:
    return {"subject": {"given_name": "Jo", "phone": phone}, "reason": "r",
            "consent": {"subject_informed": True}}


# The rule, once: a person's number is accepted when possible, a key worker's must be valid.

def test_a_possible_number_is_kept_and_flagged_unverified_and_malformed_ones_are_not() -> None:
    found = person_number("+447911300001")
    assert found is not None and (found.e164, found.verified) == ("+447911300001", False)
    assert person_number("07911 123456") == person_number("+447911123456")
    assert person_number("07911 123456").verified  # type: ignore[union-attr]
    for malformed in ("", None, "anonymous", "123", "+266696687", "07911 1234567890"):
        assert person_number(malformed) is None, malformed
    assert may_text("+447911300001")  # its type is unknown: the carrier decides


def test_a_partner_referral_accepts_any_possible_number_and_refuses_malformed_ones() -> None:
    body = ReferralCreate.model_validate(referral("07911 654321"))
    assert body.subject.phone == "+447911654321"
    with pytest.raises(ValidationError) as refused:
        ReferralCreate.model_validate(referral("call me maybe"))
    assert ("subject", "phone") in [e["loc"][:2] for e in refused.value.errors()]
    assert PersonMessageIn.model_validate({
        "message_key": "k", "template": "crisis_signposting", "to": "+447911300001",
        "reference": None}).to == "+447911300001"


def test_a_key_workers_own_mobile_stays_strict() -> None:
    with pytest.raises(ValueError):
        to_e164("+447911300001")
    with pytest.raises(ValidationError):
        KeyWorkerCreate.model_validate({"name": "K", "phone": "07911 654321",
                                        "localities": ["north"], "teams": ["hub"]})


async def test_a_referred_persons_unlisted_number_is_marked_unverified(
    intake: ServiceHarness,
) -> None:
    phone = unlisted()
    resp = await intake.client.post("/internal/people/resolve", json={
        "referral_id": sid("R"), "reference": "LW-TEST-0001",
        "subject": {"phone": phone.replace("+44", "0")}})
    assert resp.status_code == 200, resp.text
    person = (await intake.client.get(f"/api/v1/people/{resp.json()['person_id']}",
                                      headers=STAFF)).json()
    assert {"kind": "phone", "value": phone, "verified": False} in person["identifiers"]


# Voice: the unlisted caller, and a crisis call nobody answered.

async def contact(intake: ServiceHarness, external_id: str) -> Contact:
    async with intake.kit.db.sessionmaker() as session:
        found = await session.scalar(select(Contact).where(Contact.external_id == external_id))
        assert found is not None
        return found


async def test_an_unanswered_crisis_call_from_an_unlisted_number_alerts_texts_and_is_returnable(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    intake.kit.settings.crisis_line_number = None
    call_sid, caller = sid("CA"), unlisted()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    await post_twilio(intake, "/twilio/voice/menu", call(call_sid, caller, Digits="1"), attempt=1)
    recorded = await contact(intake, call_sid)
    assert (recorded.from_raw, recorded.from_address, recorded.from_verified) == (
        caller, caller, False)
    assert recorded.outcome == "crisis_unanswered" and recorded.person_id is not None
    [alert] = await peers.wait_for("/internal/alerts")  # at once, not when the callback is due
    assert alert.body["kind"] == "crisis" and alert.body["urgency"] == "emergency"
    [text_] = await peers.wait_for("/internal/person-messages")
    assert (text_.body["to"], text_.body["template"]) == (caller, "crisis_signposting")
    listed = (await intake.client.get("/api/v1/callbacks", params={"limit": 500},
                                      headers=STAFF)).json()
    [mine] = [c for c in listed if c["contact_id"] == recorded.id]
    assert (mine["risk"], mine["reason"]) == ("crisis", "crisis_no_answer")
    assert mine["reach"] == {"from_address": caller, "from_raw": caller, "from_verified": False}
    detail = (await intake.client.get(f"/api/v1/callbacks/{mine['id']}", headers=STAFF)).json()
    assert detail["reach"]["from_address"] == caller
    # Twilio repeats the last step: still one alert, one text, one callback.
    await post_twilio(intake, "/twilio/voice/crisis", call(call_sid, caller), tier=3)
    await post_twilio(intake, "/twilio/voice/status", call(call_sid, caller,
                                                           CallStatus="completed"))
    async with intake.kit.db.sessionmaker() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.like(f"%{recorded.id}%"))))
        callbacks = list(await session.scalars(select(Callback).where(
            Callback.contact_id == recorded.id)))
    assert sorted(keys) == sorted([f"alert:crisis:{recorded.id}",
                                   f"person-message:{recorded.id}:crisis_signposting"])
    assert len(callbacks) == 1


async def test_a_caller_hanging_up_while_the_crisis_route_rings_raises_an_alert_at_once(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/rota/on-duty", rota({"crisis_duty": ["+447400900001"]}))
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    await post_twilio(intake, "/twilio/voice/menu", call(call_sid, caller, Digits="1"), attempt=1)
    await post_twilio(intake, "/twilio/voice/status", call(call_sid, caller,
                                                           CallStatus="completed"))
    [alert] = await peers.wait_for("/internal/alerts")
    assert alert.body["kind"] == "crisis"
    recorded = await contact(intake, call_sid)
    async with intake.kit.db.sessionmaker() as session:
        [callback] = await session.scalars(select(Callback).where(
            Callback.contact_id == recorded.id))
    assert callback.risk == "crisis" and callback.person_id == recorded.person_id is not None


async def test_a_crisis_voicemail_is_told_to_the_caller_and_its_referral_reply_is_applied(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    await post_twilio(intake, "/twilio/voice/menu", call(call_sid, caller, Digits="2"), attempt=1)
    left = call(call_sid, caller, RecordingUrl="https://api.twilio.example/rec/1",
                RecordingDuration="20")
    await post_twilio(intake, "/twilio/voice/recorded", left, purpose="support")
    await peers.wait_for("/internal/person-messages")  # the support message's confirmation
    heard = call(call_sid, caller, TranscriptionText="I am going to kill myself tonight",
                 TranscriptionStatus="completed")
    for _ in range(2):  # Twilio may repeat the transcription callback
        resp = await post_twilio(intake, "/twilio/voice/transcription", heard, purpose="support")
        assert resp.status_code == 204
    support, crisis = await peers.wait_for("/internal/referrals", 2)
    assert crisis.body["urgency"] == "emergency" and crisis.body["person_id"] == \
        support.body["person_id"] is not None
    texts = await peers.wait_for("/internal/person-messages", 2)
    told = [t.body for t in texts if t.body["template"] == "crisis_signposting"]
    assert told == [{"message_key": told[0]["message_key"], "to": caller,
                     "template": "crisis_signposting", "reference": crisis.body["reference"],
                     "respond_by": None}]
    [alert] = await peers.wait_for("/internal/alerts")
    assert alert.body["reference"] == crisis.body["reference"]

    async def applied() -> list[OutboxMessage]:
        # Before the fix, the crisis referral's reply handler failed on every try.
        async with intake.kit.db.sessionmaker() as session:
            rows = list(await session.scalars(select(OutboxMessage).where(
                OutboxMessage.idempotency_key.like(f"referral:{crisis.body['contact_id']}%"))))
        return rows if len(rows) == 2 and all(r.delivered_at for r in rows) else []

    rows = await eventually(applied, timeout=10, what="both referral replies applied")
    assert all(r.last_error is None for r in rows), [r.last_error for r in rows]
    assert len(peers.sent("/internal/person-messages")) == 2  # no second confirmation


# One story: a quoted reference, the same number, one emergency referral.

async def test_a_crisis_email_quoting_a_reference_joins_that_person_and_their_emergency(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    phone, address = mobile(), sender()
    first = message_of((await post_twilio(
        intake, "/twilio/sms", text(sid("SM"), phone, "I want to die"))).text) or ""
    [emergency] = await peers.wait_for("/internal/referrals")
    reference = emergency.body["reference"]
    assert reference in first
    mail = await post_email(intake, sendgrid(address, f"Re: {reference}",
                                             "I still want to end my life", message_id()))
    assert mail["reference"] == reference  # joined: no second emergency referral
    again = message_of((await post_twilio(
        intake, "/twilio/sms", text(sid("SM"), phone, f"{reference} I want to die"))).text) or ""
    assert reference in again
    assert len(peers.sent("/internal/referrals")) == 1
    async with intake.kit.db.sessionmaker() as session:
        owner = await session.scalar(select(PersonIdentifier.person_id).where(
            PersonIdentifier.kind == "email", PersonIdentifier.value == address))
        rows = list(await session.scalars(select(Contact).where(Contact.reference == reference)))
        crisis_callbacks = list(await session.scalars(select(Callback).where(
            Callback.person_id == emergency.body["person_id"], Callback.risk == "crisis")))
    assert owner == emergency.body["person_id"]
    assert {c.person_id for c in rows} == {owner} and len(rows) == 3
    assert len(crisis_callbacks) == 1
    read = (await intake.client.get("/api/v1/contacts", params={"reference": reference},
                                    headers=STAFF)).json()
    assert [(c["channel"], c["from_address"], c["from_verified"]) for c in read] == [
        ("sms", phone, True), ("email", address, None), ("sms", phone, True)]
    assert read[1]["from_raw"] == f"Dr Surgery <{address}>"
    assert len(await peers.wait_for("/internal/alerts", 3)) == 3  # each crisis is told at once


async def test_a_reference_quoted_from_another_persons_number_is_flagged_not_merged(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    first, second = mobile(), mobile()
    await post_twilio(intake, "/twilio/sms", text(sid("SM"), first, "Could someone call me"))
    [made] = await peers.wait_for("/internal/referrals")
    await post_twilio(intake, "/twilio/sms", text(sid("SM"), second, "Hi, just saying"))
    await peers.wait_for("/internal/referrals", 2)
    quoted = message_of((await post_twilio(intake, "/twilio/sms", text(
        sid("SM"), second, f"about {made.body['reference'].lower()} please"))).text) or ""
    assert made.body["reference"] in quoted
    matches = (await intake.client.get("/api/v1/people/possible-matches",
                                       headers=STAFF)).json()
    assert any(m["candidate_id"] == made.body["person_id"]
               and m["reasons"] == ["same_phone_quoted_reference"] for m in matches)
