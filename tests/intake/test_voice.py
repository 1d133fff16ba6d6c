"""The voice IVR: greeting, menu, the crisis route and its fall-backs, messages, callbacks."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from sqlalchemy import select

from services.intake import deps
from services.intake.models import Callback, Contact, OutboxMessage
from tests.intake.conftest import CRISIS_LINE, post_twilio
from tests.intake.fakes import FakePeers, mobile, sid, twiml
from tests.support.service import ServiceHarness


def call(call_sid: str, caller: str, **extra: str) -> dict[str, str]:
    return {"CallSid": call_sid, "From": caller, "To": "+442000000000", "CallStatus": "ringing",
            "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", **extra}


def step_of(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


async def contact_of(intake: ServiceHarness, call_sid: str) -> Contact:
    async with intake.kit.db.sessionmaker() as session:
        found = await session.scalar(select(Contact).where(Contact.external_id == call_sid))
        assert found is not None
        return found


async def callbacks_of(intake: ServiceHarness, contact_id: str) -> list[Callback]:
    async with intake.kit.db.sessionmaker() as session:
        rows = await session.scalars(select(Callback).where(Callback.contact_id == contact_id))
        return list(rows)


def rota(numbers_by_role: dict[str, list[str]]) -> Any:
    def answer(_: Any, request: web.Request) -> tuple[int, Any]:
        return 200, {"numbers": numbers_by_role.get(request.query.get("role", ""), [])}
    return answer


async def test_a_call_is_recorded_once_and_answered_with_the_greeting_and_menu(
    intake: ServiceHarness,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    resp = await post_twilio(intake, "/twilio/voice", call(call_sid, caller, NewParam="x"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/xml")
    root = twiml(resp.text)
    say, gather, redirect = list(root)
    assert say.tag == "Say" and "999" in (say.text or "")
    assert say.get("language") == "en-GB"
    assert gather.tag == "Gather" and gather.get("numDigits") == "1"
    path, params = step_of(gather.get("action", ""))
    assert path == "/twilio/voice/menu" and params == {"attempt": "1"}
    assert gather.get("action", "").startswith("https://line.example/")
    menu_words = gather.find("Say")
    assert menu_words is not None and "press 1" in (menu_words.text or "")
    assert "press 4" not in (menu_words.text or "")  # not a recognised caller
    assert redirect.tag == "Redirect"
    again = await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    assert again.status_code == 200
    async with intake.kit.db.sessionmaker() as session:
        rows = (await session.scalars(select(Contact).where(Contact.external_id == call_sid))).all()
    assert len(rows) == 1 and rows[0].channel == "voice" and rows[0].from_address == caller


async def test_no_input_twice_goes_to_the_crisis_route_not_a_hang_up(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/rota/on-duty", rota({"crisis_duty": ["+447400900001"]}))
    call_sid = sid("CA")
    await post_twilio(intake, "/twilio/voice", call(call_sid, mobile()))
    first = twiml((await post_twilio(intake, "/twilio/voice/menu", call(call_sid, mobile()),
                                     attempt=1)).text)
    gather = first.find("Gather")
    assert gather is not None
    assert step_of(gather.get("action", "")) == ("/twilio/voice/menu", {"attempt": "2"})
    second = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                      call(call_sid, mobile(), Digits="9"), attempt=2)).text)
    dial = second.find("Dial")
    assert dial is not None, "invalid input twice must reach a human"
    assert [n.text for n in dial.findall("Number")] == ["+447400900001"]


async def test_crisis_rings_the_rota_then_the_backup_then_the_crisis_line_then_says_999(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/rota/on-duty", rota({
        "crisis_duty": ["+447400900001", "+447400900002"],
        "backup_manager": ["+447400900003"]}))
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    root = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                    call(call_sid, caller, Digits="1"), attempt=1)).text)
    dial = root.find("Dial")
    assert dial is not None and dial.get("timeout") == "20"
    assert [n.text for n in dial.findall("Number")] == ["+447400900001", "+447400900002"]
    path, params = step_of(dial.get("action", ""))
    assert (path, params) == ("/twilio/voice/crisis", {"tier": "1"})
    # Nobody answered: duty coordinator has nobody on duty, so the backup manager is next.
    root = twiml((await post_twilio(intake, path, call(call_sid, caller,
                                                       DialCallStatus="no-answer"),
                                    **params)).text)
    dial = root.find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == ["+447400900003"]
    path, params = step_of(dial.get("action", ""))
    root = twiml((await post_twilio(intake, path, call(call_sid, caller, DialCallStatus="busy"),
                                    **params)).text)
    dial = root.find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == [CRISIS_LINE]
    path, params = step_of(dial.get("action", ""))
    root = twiml((await post_twilio(intake, path,
                                    call(call_sid, caller, DialCallStatus="failed"),
                                    **params)).text)
    assert root.find("Dial") is None
    said = " ".join(s.text or "" for s in root.findall("Say"))
    assert "999" in said and "111" in said and "116 123" in said
    assert root[-1].tag == "Hangup"
    contact = await contact_of(intake, call_sid)
    assert contact.outcome == "crisis_unanswered"
    [callback] = await callbacks_of(intake, contact.id)
    assert (callback.risk, callback.reason) == ("crisis", "crisis_no_answer")
    [text] = await peers.wait_for("/internal/person-messages")
    assert text.body["template"] == "crisis_signposting" and text.body["to"] == caller


async def test_with_keyperson_down_and_no_crisis_line_the_caller_hears_999(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/rota/on-duty", (503, {"title": "down"}))
    intake.kit.settings.crisis_line_number = None
    call_sid = sid("CA")
    root = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                    call(call_sid, mobile(), Digits="1"), attempt=1)).text)
    said = " ".join(s.text or "" for s in root.findall("Say"))
    assert root.find("Dial") is None and "999" in said and root[-1].tag == "Hangup"


async def test_an_answered_crisis_call_ends_with_goodbye_and_no_callback(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    root = twiml((await post_twilio(intake, "/twilio/voice/crisis",
                                    call(call_sid, caller, DialCallStatus="completed"),
                                    tier=1)).text)
    assert root[-1].tag == "Hangup" and root.find("Dial") is None
    await post_twilio(intake, "/twilio/voice/status", call(call_sid, caller,
                                                           CallStatus="completed"))
    contact = await contact_of(intake, call_sid)
    assert contact.outcome == "connected"
    assert await callbacks_of(intake, contact.id) == []


async def test_option_2_records_a_message_refers_and_texts_the_reference(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    root = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                    call(call_sid, caller, Digits="2"), attempt=1)).text)
    record = root.find("Record")
    assert record is not None
    assert step_of(record.get("action", "")) == ("/twilio/voice/recorded",
                                                  {"purpose": "support"})
    assert step_of(record.get("recordingStatusCallback", ""))[0] == "/twilio/voice/recording"
    assert step_of(record.get("transcribeCallback", ""))[0] == "/twilio/voice/transcription"
    assert root[-1].tag == "Redirect"
    form = call(call_sid, caller, RecordingUrl="https://api.twilio.com/rec/RE1",
                RecordingDuration="14")
    root = twiml((await post_twilio(intake, "/twilio/voice/recorded", form,
                                    purpose="support")).text)
    said = " ".join(s.text or "" for s in root.findall("Say"))
    contact = await contact_of(intake, call_sid)
    assert contact.reference is not None and contact.outcome == "message"
    spoken = " ".join(" ".join(p) + "." for p in contact.reference.split("-"))
    assert spoken in said and root[-1].tag == "Hangup"
    # Twilio retrying the same action keeps the same reference and one referral.
    await post_twilio(intake, "/twilio/voice/recorded", form, purpose="support")
    [referral] = await peers.wait_for("/internal/referrals")
    assert referral.body["reference"] == contact.reference
    assert referral.body["source"] == "voice" and referral.body["contact_id"] == contact.id
    assert referral.headers["idempotency-key"] == f"referral:{contact.id}"
    [text] = await peers.wait_for("/internal/person-messages")
    assert text.body == {"message_key": f"{contact.id}:caller_confirmation", "to": caller,
                         "template": "caller_confirmation", "reference": contact.reference,
                         "respond_by": "2026-11-23T12:00:00+00:00"}
    await post_twilio(intake, "/twilio/voice/transcription",
                      call(call_sid, caller, TranscriptionText="please call me back"),
                      purpose="support")
    assert (await contact_of(intake, call_sid)).body == "please call me back"
    async with intake.kit.db.sessionmaker() as session:
        keys = (await session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.like(f"%{contact.id}%")))).all()
    assert sorted(keys) == [f"person-message:{contact.id}:caller_confirmation",
                            f"referral:{contact.id}"]


async def test_option_3_tells_professionals_how_to_refer_and_takes_a_message(
    intake: ServiceHarness,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    root = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                    call(call_sid, caller, Digits="3"), attempt=1)).text)
    said = root.find("Say")
    assert said is not None and "email" in (said.text or "")
    record = root.find("Record")
    assert record is not None
    assert step_of(record.get("action", ""))[1] == {"purpose": "professional"}
    await post_twilio(intake, "/twilio/voice/recorded",
                      call(call_sid, caller, RecordingUrl="https://x/RE2",
                           RecordingDuration="9"), purpose="professional")
    [callback] = await callbacks_of(intake, (await contact_of(intake, call_sid)).id)
    assert (callback.reason, callback.risk) == ("professional_message", "routine")


async def test_option_4_rings_an_on_duty_key_worker_and_takes_a_message_if_unanswered(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    caller = mobile()
    resolved = await intake.client.post("/internal/people/resolve", json={
        "referral_id": sid("R"), "reference": "LW-KW00-" + sid("")[:4], "subject": {
            "phone": caller}})
    person_id = resolved.json()["person_id"]
    peers.on("GET", f"/internal/people/{person_id}/key-worker",
             (200, {"keyworker_id": "kw-1", "phone": "+447400900042", "on_duty": True}))
    call_sid = sid("CA")
    greeting = twiml((await post_twilio(intake, "/twilio/voice", call(call_sid, caller))).text)
    gather = greeting.find("Gather")
    assert gather is not None
    path, params = step_of(gather.get("action", ""))
    assert params == {"attempt": "1", "kw": "1"}
    root = twiml((await post_twilio(intake, path, call(call_sid, caller, Digits="4"),
                                    **params)).text)
    dial = root.find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == ["+447400900042"]
    path, params = step_of(dial.get("action", ""))
    root = twiml((await post_twilio(intake, path,
                                    call(call_sid, caller, DialCallStatus="no-answer"),
                                    **params)).text)
    record = root.find("Record")
    assert record is not None and step_of(record.get("action", ""))[1] == {
        "purpose": "key_worker"}
    await post_twilio(intake, "/twilio/voice/recorded",
                      call(call_sid, caller, RecordingUrl="https://x/RE3",
                           RecordingDuration="20"), purpose="key_worker")
    [callback] = await callbacks_of(intake, (await contact_of(intake, call_sid)).id)
    assert (callback.reason, callback.person_id) == ("key_worker_message", person_id)


async def test_option_4_is_not_offered_to_an_unknown_caller_and_means_nothing(
    intake: ServiceHarness,
) -> None:
    root = twiml((await post_twilio(intake, "/twilio/voice/menu",
                                    call(sid("CA"), mobile(), Digits="4"), attempt=1)).text)
    assert root.find("Gather") is not None  # asked again, not connected to anyone


async def test_crisis_words_in_a_transcription_raise_the_callback_and_alert(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice/menu", call(call_sid, caller, Digits="2"),
                      attempt=1)
    await post_twilio(intake, "/twilio/voice/recorded",
                      call(call_sid, caller, RecordingUrl="https://x/RE4",
                           RecordingDuration="30"), purpose="support")
    await post_twilio(intake, "/twilio/voice/transcription",
                      call(call_sid, caller, TranscriptionText="I took an overdose"),
                      purpose="support")
    contact = await contact_of(intake, call_sid)
    assert contact.crisis
    [callback] = await callbacks_of(intake, contact.id)
    assert callback.risk == "crisis"
    [alert] = await peers.wait_for("/internal/alerts")
    routine, emergency = await peers.wait_for("/internal/referrals", 2)
    assert routine.body["reference"] == contact.reference
    assert routine.body["urgency"] == "routine"
    assert emergency.body["urgency"] == "emergency" and emergency.body["risk"]["self_harm"]
    assert alert.body["reference"] == emergency.body["reference"]


async def test_a_failing_step_still_answers_with_the_999_instruction_and_crisis_line(
    intake: ServiceHarness, monkeypatch: Any,
) -> None:
    from services.intake import calls

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(calls, "crisis_step", broken)
    resp = await post_twilio(intake, "/twilio/voice/menu", call(sid("CA"), mobile(), Digits="1"),
                             attempt=1)
    assert resp.status_code == 200
    root = twiml(resp.text)
    dial = root.find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == [CRISIS_LINE]
    assert "999" in " ".join(s.text or "" for s in root.findall("Say"))
    assert root[-1].tag == "Hangup"


async def test_the_same_call_sid_at_the_same_moment_is_one_contact(
    intake: ServiceHarness,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    answers = await asyncio.gather(*(post_twilio(intake, "/twilio/voice", call(call_sid, caller))
                                     for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    async with intake.kit.db.sessionmaker() as session:
        rows = (await session.scalars(select(Contact).where(Contact.external_id == call_sid))).all()
    assert len(rows) == 1


async def test_a_call_that_cannot_be_recorded_gets_the_fail_safe_and_is_flagged_for_replay(
    intake: ServiceHarness, monkeypatch: Any,
) -> None:
    async def database_down(_: Any) -> Any:
        raise ConnectionError("database down")

    monkeypatch.setattr(deps.of(intake.kit).calls._commit, "_write", database_down)
    call_sid = sid("CA")
    resp = await post_twilio(intake, "/twilio/voice", call(call_sid, mobile()))
    assert resp.status_code == 200
    assert resp.headers["x-livewell-unrecorded"] == "1"  # the gateway spools it for replay
    dial = twiml(resp.text).find("Dial")
    assert dial is not None and [n.text for n in dial.findall("Number")] == [CRISIS_LINE]
    monkeypatch.undo()
    again = await post_twilio(intake, "/twilio/voice", call(call_sid, mobile()))
    assert "x-livewell-unrecorded" not in again.headers
    assert (await contact_of(intake, call_sid)).channel == "voice"
