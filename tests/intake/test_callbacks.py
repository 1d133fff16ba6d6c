"""Missed and abandoned calls and messages left become one callback list for staff."""

from __future__ import annotations

from sqlalchemy import select

from services.intake.models import Callback, Contact
from tests.intake.conftest import post_twilio
from tests.intake.fakes import FakePeers, mobile, sid
from tests.intake.test_sms import text
from tests.intake.test_voice import call
from tests.support.service import ServiceHarness, key_headers

STAFF = key_headers("Living Well Hub", "staff")


async def callback_for(intake: ServiceHarness, call_sid: str) -> list[Callback]:
    async with intake.kit.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.external_id == call_sid))
        assert contact is not None
        return list(await session.scalars(select(Callback)
                                          .where(Callback.contact_id == contact.id)))


async def test_a_caller_who_hangs_up_in_the_menu_is_called_back_once(
    intake: ServiceHarness,
) -> None:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    for _ in range(2):  # Twilio may repeat a status callback
        resp = await post_twilio(intake, "/twilio/voice/status",
                                 call(call_sid, caller, CallStatus="completed"))
        assert resp.status_code == 204
    [callback] = await callback_for(intake, call_sid)
    assert (callback.reason, callback.risk, callback.status) == ("abandoned_call", "high", "open")


async def test_staff_see_callbacks_by_risk_then_deadline_and_log_attempts(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    abandoned, crisis_sid, crisis_call = sid("CA"), sid("SM"), sid("CA")
    await post_twilio(intake, "/twilio/voice", call(abandoned, mobile()))
    await post_twilio(intake, "/twilio/voice/status", call(abandoned, mobile(),
                                                           CallStatus="completed"))
    await post_twilio(intake, "/twilio/sms", text(crisis_sid, mobile(), "I want to die"))
    intake.kit.clock.advance(60)
    intake.kit.settings.crisis_line_number = None
    await post_twilio(intake, "/twilio/voice/menu", call(crisis_call, mobile(), Digits="1"),
                      attempt=1)
    listed = (await intake.client.get("/api/v1/callbacks", headers=STAFF)).json()
    ranks = ["crisis", "high", "medium", "routine"]
    assert [ranks.index(c["risk"]) for c in listed] == sorted(ranks.index(c["risk"])
                                                             for c in listed)
    crisis = [c for c in listed if c["risk"] == "crisis"]
    assert [c["due_at"] for c in crisis] == sorted(c["due_at"] for c in crisis)
    mine = {c["reason"] for c in listed if c["risk"] == "crisis"}
    assert {"crisis_message", "crisis_no_answer"} <= mine
    target = next(c for c in listed if c["reason"] == "abandoned_call")
    url = f"/api/v1/callbacks/{target['id']}/attempts"
    first = await intake.client.post(url, json={"outcome": "no_answer"}, headers=STAFF)
    assert first.status_code == 201 and first.json()["status"] == "open"
    done = await intake.client.post(url, json={"outcome": "reached"}, headers=STAFF)
    detail = done.json()
    assert detail["status"] == "done" and detail["attempts"] == 2
    assert [a["outcome"] for a in detail["attempt_log"]] == ["no_answer", "reached"]
    assert detail["attempt_log"][0]["actor_key_id"] == STAFF["x-livewell-key-id"]
    late = await intake.client.post(url, json={"outcome": "no_answer"}, headers=STAFF)
    assert late.status_code == 409
    listed = (await intake.client.get("/api/v1/callbacks", headers=STAFF)).json()
    assert target["id"] not in {c["id"] for c in listed}


async def test_partners_cannot_see_the_callback_list(intake: ServiceHarness) -> None:
    resp = await intake.client.get("/api/v1/callbacks", headers=key_headers("Police"))
    assert resp.status_code == 403
