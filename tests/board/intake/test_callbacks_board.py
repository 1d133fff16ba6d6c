"""Intake's board lane: callbacks by risk then wait with who took each one, and the steps on
them (attempt, take, close with a reason); coordinators and admins only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.intake.models import AuditEntry, Callback, CallbackAttempt, Contact
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.intake.conftest import post_twilio
from tests.intake.fakes import mobile, sid
from tests.intake.test_voice import call
from tests.support.service import ServiceHarness

LANE = "/api/v1/desk/board/callbacks"


async def an_abandoned_call(intake: ServiceHarness) -> tuple[str, str]:
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    await post_twilio(intake, "/twilio/voice/status", call(call_sid, caller,
                                                           CallStatus="completed"))
    async with intake.kit.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.external_id == call_sid))
        assert contact is not None
        callback = await session.scalar(select(Callback)
                                        .where(Callback.contact_id == contact.id))
        assert callback is not None
    return callback.id, caller


async def on_board(intake: ServiceHarness, callback_id: str) -> dict[str, Any] | None:
    lane = await intake.client.get(LANE, params={"limit": 500},
                                   headers=signed_in("coordinator"))
    assert lane.status_code == 200, lane.text
    return next((c for c in lane.json()["items"] if c["id"] == callback_id), None)


async def test_a_missed_call_is_on_the_board_with_its_number_and_who_took_it(
    intake: ServiceHarness,
) -> None:
    callback_id, caller = await an_abandoned_call(intake)
    item = await on_board(intake, callback_id)
    assert item is not None and item["reach"] == caller and item["taken_by"] is None
    taken = await intake.client.post(f"{LANE}/{callback_id}/take",
                                     headers=signed_in("coordinator", COORDINATOR))
    assert taken.status_code == 201, taken.text
    item = await on_board(intake, callback_id)
    assert item is not None and item["taken_by"] == COORDINATOR and item["taken_at"]
    tried = await intake.client.post(f"{LANE}/{callback_id}/attempts",
                                     json={"outcome": "no_answer"},
                                     headers=signed_in("coordinator", COORDINATOR))
    assert tried.status_code == 201 and tried.json() == {"status": "open"}
    item = await on_board(intake, callback_id)
    assert item is not None and item["attempts"] == 1 and item["last_outcome"] == "no_answer"
    assert item["taken_by"] == COORDINATOR
    reached = await intake.client.post(f"{LANE}/{callback_id}/attempts",
                                       json={"outcome": "reached"}, headers=signed_in("admin"))
    assert reached.json() == {"status": "done"}
    assert await on_board(intake, callback_id) is None


async def test_a_contact_that_needs_nothing_is_closed_with_its_reason(
    intake: ServiceHarness,
) -> None:
    callback_id, _ = await an_abandoned_call(intake)
    closed = await intake.client.post(f"{LANE}/{callback_id}/close", json={"reason": "no_need"},
                                      headers=signed_in("coordinator", COORDINATOR))
    assert closed.status_code == 200 and closed.json() == {"status": "done"}
    again = await intake.client.post(f"{LANE}/{callback_id}/close", json={"reason": "no_need"},
                                     headers=signed_in("coordinator"))
    assert again.status_code == 409
    async with intake.kit.db.sessionmaker() as session:
        steps = (await session.scalars(select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback_id))).all()
        audited = (await session.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == callback_id))).all()
    assert [(s.outcome, s.actor_key_id) for s in steps] == [("closed:no_need", COORDINATOR)]
    assert [a.action for a in audited] == ["callback_closed:no_need"]


async def test_a_bad_outcome_or_reason_is_a_422_naming_the_field_and_changes_nothing(
    intake: ServiceHarness,
) -> None:
    callback_id, _ = await an_abandoned_call(intake)
    bad = await intake.client.post(f"{LANE}/{callback_id}/attempts", json={"outcome": "maybe"},
                                   headers=signed_in("coordinator"))
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "outcome" in bad.text
    worse = await intake.client.post(f"{LANE}/{callback_id}/close", json={"reason": ""},
                                     headers=signed_in("coordinator"))
    assert worse.status_code == 422 and "reason" in worse.text
    item = await on_board(intake, callback_id)
    assert item is not None and item["attempts"] == 0


async def test_key_workers_and_keys_get_403_and_change_nothing(intake: ServiceHarness) -> None:
    callback_id, _ = await an_abandoned_call(intake)
    for headers in refused_everyone_but_coordinators():
        assert (await intake.client.get(LANE, headers=headers)).status_code == 403
        for step in ("take", "close"):
            resp = await intake.client.post(f"{LANE}/{callback_id}/{step}",
                                            json={"reason": "no_need"}, headers=headers)
            assert resp.status_code == 403
    item = await on_board(intake, callback_id)
    assert item is not None and item["taken_by"] is None
