"""Escalation by the policy file: silence walks SMS → call → next worker → coordinator;
an answer on the keypad stops it; emergency calls and texts at once."""

from __future__ import annotations

from tests.notify.conftest import Expectations, NotifyHarness, mobile


async def test_silence_escalates_sms_then_voice_then_next_worker_then_coordinator(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    first, second, coordinator = mobile(), mobile(), mobile()
    notify.peers.coordinators = [coordinator]
    for worker in (first, second):
        expect.expect_sms(worker, "ACCEPT")
        expect.expect_call(worker)
    expect.expect_sms(coordinator, "nobody has accepted")

    offered = await notify.offer(first, "urgent")
    await notify.settle()
    assert len(await notify.twilio.messages(first)) == 1
    await notify.advance(570)
    assert await notify.twilio.calls(first) == []
    await notify.advance(30)
    [call] = await notify.twilio.calls(first)
    assert "Press 1 to accept, or 2 to decline." in call["says"][0]
    assert call["gather"]["action"].endswith(f"/twilio/status/handoff-call/{offered['handoff_id']}")
    assert notify.peers.to("/declined") == []
    await notify.advance(300)
    [declined] = notify.peers.to(f"/internal/assignments/{offered['referral_id']}/declined")
    assert declined == {"keyworker_id": offered["keyworker_id"],
                        "handoff_id": offered["handoff_id"], "reason": "expired"}
    assert (await notify.handoff(offered["handoff_id"])).status == "expired"
    assert await notify.twilio.messages(coordinator) == [], "first offer: no coordinator yet"

    # Keyperson offers the next ranked candidate: offer 2 of the same referral.
    nxt = await notify.offer(second, "urgent", n=2, referral_id=offered["referral_id"])
    await notify.settle()
    await notify.advance(600)
    assert len(await notify.twilio.calls(second)) == 1
    await notify.advance(300)
    [alert] = await notify.twilio.messages(coordinator)
    assert nxt["reference"] in alert["body"]
    steps = [t["step"] for t in (await notify.client.get(
        f"/api/v1/handoffs/{nxt['handoff_id']}", headers=_staff())).json()["timeline"]]
    assert steps[:3] == ["offered", "sms", "sent"]
    assert "call" in steps and "alert_coordinator" in steps and steps[-1] == "next_candidate"


async def test_pressing_1_on_the_call_accepts_and_nothing_more_is_sent(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "EMERGENCY")
    expect.expect_call(worker)
    offered = await notify.offer(worker, "emergency")
    await notify.settle()
    [call] = await notify.twilio.calls(worker)  # emergency: voice and SMS at once
    assert len(await notify.twilio.messages(worker)) == 1
    answer = await notify.twilio.press(call["sid"], "1")
    assert "Accepted" in answer["twiml"]
    await notify.settle()
    assert (await notify.handoff(offered["handoff_id"])).status == "accepted"
    assert len(notify.peers.to("/accepted")) == 1
    await notify.advance(3600)
    assert len(await notify.twilio.calls(worker)) == 1
    assert notify.peers.to("/declined") == []


async def test_decline_by_sms_hands_back_to_keyperson_once(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker, "routine")
    await notify.settle()
    h = await notify.handoff(offered["handoff_id"])
    out = await notify.twilio.inbound_sms(worker, f"Decline: {h.reply_code}.")
    assert "Declined" in out["twiml"]
    again = await notify.twilio.inbound_sms(worker, f"DECLINE {h.reply_code}")
    assert "no longer open" in again["twiml"]
    await notify.settle()
    assert [d["reason"] for d in notify.peers.to("/declined")] == ["declined"]


def _staff() -> dict[str, str]:
    return {"x-livewell-actor-kind": "key", "x-livewell-role": "staff", "x-livewell-org": "hub"}
