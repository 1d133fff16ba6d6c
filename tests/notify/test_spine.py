"""One handoff, one SMS: the contract's wording, nothing about the person, ACCEPT closes it."""

from __future__ import annotations

import re

from tests.notify.conftest import OUR_NUMBER, Expectations, NotifyHarness, mobile


async def test_a_handoff_sends_exactly_one_sms_with_reference_code_and_nothing_personal(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, r"ACCEPT [0-9A-Z]{6} or DECLINE [0-9A-Z]{6}")
    offered = await notify.offer(worker, email="ada@example.org")
    again = await notify.client.post("/internal/handoffs", json={
        k: v for k, v in offered.items() if k != "handoff_id"})
    assert again.json()["handoff_id"] == offered["handoff_id"]
    await notify.settle()
    [sms] = await notify.twilio.messages(worker)
    assert sms["from"] == OUR_NUMBER
    assert offered["reference"] in sms["body"]
    h = await notify.handoff(offered["handoff_id"])
    assert f"ACCEPT {h.reply_code}" in sms["body"] and f"DECLINE {h.reply_code}" in sms["body"]
    assert worker not in sms["body"] and "ada" not in sms["body"]
    assert sms["status_callback"] == "https://line.example.org/twilio/status"
    assert sms["status"] == "delivered"
    detail = (await notify.client.get(f"/api/v1/handoffs/{h.id}", headers={
        "x-livewell-actor-kind": "key", "x-livewell-role": "staff",
        "x-livewell-org": "hub"})).json()
    assert detail["messages"][0]["status"] == "delivered"
    assert [t["step"] for t in detail["timeline"]][:3] == ["offered", "sms", "sent"]


async def test_accept_by_sms_tells_referral_and_keyperson_and_stops_escalation(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker)
    await notify.settle()
    h = await notify.handoff(offered["handoff_id"])
    answer = await notify.twilio.inbound_sms(worker, f"  accept {h.reply_code.lower()}!! ")
    assert re.search(r"Accepted LW-", answer["twiml"])
    await notify.settle()
    assert (await notify.handoff(h.id)).status == "accepted"
    [event] = notify.peers.to(f"/internal/referrals/{offered['referral_id']}/events")
    assert event["event"] == "accepted" and event["keyworker_id"] == offered["keyworker_id"]
    [accepted] = notify.peers.to(f"/internal/assignments/{offered['referral_id']}/accepted")
    assert accepted["handoff_id"] == h.id
    await notify.advance(3600)  # the call at +10 min and the next worker at +15 never happen
    assert await notify.twilio.calls() == []
    assert notify.peers.to("/declined") == []
