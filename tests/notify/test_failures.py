"""Twilio misbehaving: a 429 storm delays but loses nothing, a crash mid-send sends no
duplicate, STOP (21610) raises an alert and switches to a call, callbacks in any order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.notify.dispatcher import Claimed, Dispatcher
from services.notify.models import Alert, Message
from tests.notify.conftest import (
    OUR_NUMBER,
    Expectations,
    NotifyHarness,
    mobile,
    notify_config,
)


class SimulatedCrash(BaseException):
    """The process dies: nothing after this point is committed."""


async def _messages(notify: NotifyHarness, handoff_id: str) -> list[Message]:
    async with notify.service.kit.db.sessionmaker() as s:
        rows = await s.scalars(select(Message).where(Message.handoff_id == handoff_id))
        return list(rows.all())


async def test_a_429_storm_delays_every_handoff_but_loses_none(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    workers = [mobile() for _ in range(5)]
    for w in workers:
        expect.expect_sms(w, "ACCEPT")
    await notify.twilio.fault(resource="messages", status=429, code=20429,
                              message="Too Many Requests", retry_after=30, times=8)
    for w in workers:
        await notify.offer(w, "routine")
    await notify.settle()
    sent = [w for w in workers if await notify.twilio.messages(w)]
    assert len(sent) < len(workers), "the storm held some back"
    for _ in range(8):
        await notify.advance(40)
        if all([await notify.twilio.messages(w) for w in workers]):
            break
    for w in workers:
        assert len(await notify.twilio.messages(w)) == 1, "each exactly once"


async def test_a_timeout_after_twilio_created_the_message_is_reconciled_not_resent(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    await notify.twilio.fault(resource="messages", to=worker, after_create=True, delay=1.5)
    offered = await notify.offer(worker)
    await notify.settle()
    await notify.advance(30)
    [row] = await _messages(notify, offered["handoff_id"])
    assert row.provider_sid is not None and row.attempts == 2  # timed out, then looked up
    assert len(await notify.twilio.messages(worker)) == 1
    detail = (await notify.client.get(f"/api/v1/handoffs/{offered['handoff_id']}", headers={
        "x-livewell-actor-kind": "key", "x-livewell-role": "staff"})).json()
    assert [t["detail"] for t in detail["timeline"] if t["step"] == "sent"] == ["reconciled"]


async def test_stop_from_a_worker_raises_an_alert_and_switches_to_a_call(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker, coordinator = mobile(), mobile()
    notify.peers.coordinators = [coordinator]
    expect.expect_call(worker)
    expect.expect_sms(coordinator, "opted out of SMS")
    await notify.twilio.fault(resource="messages", to=worker, status=400, code=21610,
                              message="Attempt to send to unsubscribed recipient", times=None)
    offered = await notify.offer(worker)
    await notify.settle()
    assert await notify.twilio.messages(worker) == []
    [call] = await notify.twilio.calls(worker)
    [alert_sms] = await notify.twilio.messages(coordinator)
    assert offered["reference"] in alert_sms["body"]
    async with notify.service.kit.db.sessionmaker() as s:
        kinds = (await s.scalars(select(Alert.kind).where(
            Alert.handoff_id == offered["handoff_id"]))).all()
    assert list(kinds) == ["worker_stopped"]
    h = await notify.handoff(offered["handoff_id"])
    assert h.status == "open"  # the call may still reach them


async def test_a_failed_delivery_callback_moves_to_the_next_channel_once(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    notify.peers.coordinators = [mobile()]
    expect.expect_sms(worker, "ACCEPT")
    expect.expect_call(worker)
    expect.expect_sms(notify.peers.coordinators[0], "message failed")
    await notify.twilio.fault(resource="messages", to=worker, delivery="undelivered",
                              error_code=30003)
    offered = await notify.offer(worker)
    await notify.settle()
    [sms] = await notify.twilio.messages(worker)
    # Twilio repeats itself and mixes the order: none of it moves the message back.
    await notify.twilio.set_status(sms["sid"], "sent")
    await notify.twilio.set_status(sms["sid"], "undelivered", 30003)
    await notify.settle()
    rows = await _messages(notify, offered["handoff_id"])
    by_channel = {m.channel: m for m in rows}
    assert by_channel["sms"].status == "undelivered" and by_channel["sms"].error_code == 30003
    assert len(await notify.twilio.calls(worker)) == 1


@pytest.mark.parametrize("body", ["STOP", "stop"])
async def test_a_stop_reply_from_a_worker_is_taken_and_alerts(
    notify: NotifyHarness, expect: Expectations, body: str,
) -> None:
    worker = mobile()
    notify.peers.coordinators = [mobile()]
    expect.expect_sms(worker, "ACCEPT")
    expect.expect_sms(notify.peers.coordinators[0], "opted out")
    await notify.offer(worker)
    await notify.settle()
    out = await notify.twilio.inbound_sms(worker, body)
    assert out["twiml"] == "<Response/>"
    await notify.settle()


@pytest.mark.parametrize("notify_service", [notify_config(dispatch_in_background=False)],
                         ids=["manual-dispatch"], indirect=True, scope="module")
async def test_a_crash_between_twilios_answer_and_the_commit_sends_no_duplicate(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    dispatcher = notify.dispatcher
    crashed: list[str] = []

    async def crash(item: Claimed, sid: str) -> None:
        crashed.append(sid)
        raise SimulatedCrash

    dispatcher.after_send = crash
    offered = await notify.offer(worker)
    with pytest.raises(SimulatedCrash):
        await dispatcher.run_once()
    [row] = await _messages(notify, offered["handoff_id"])
    assert row.status == "sending" and row.provider_sid is None  # outcome unknown here
    assert len(await notify.twilio.messages(worker)) == 1
    # Until the lease runs out nobody touches it; then the restarted process reconciles.
    own = notify.own
    fresh = Dispatcher(notify.service.kit.db, notify.service.kit.clock, own.config,
                       sms=own.sms, voice=own.voice, from_number=OUR_NUMBER)
    fresh.on_sent, fresh.on_refused = dispatcher.on_sent, dispatcher.on_refused
    assert await fresh.run_once() == 0
    notify.service.kit.clock.advance(61)
    await notify.twilio.advance(61)
    assert await fresh.run_once() == 1
    [row] = await _messages(notify, offered["handoff_id"])
    assert row.provider_sid == crashed[0] and row.status != "sending"
    assert len(await notify.twilio.messages(worker)) == 1
    # And a send whose first attempt really never reached Twilio is sent after the check.
    other = mobile()
    expect.expect_sms(other, "ACCEPT")
    second = await notify.offer(other)
    async with notify.service.kit.db.sessionmaker() as s, s.begin():
        msg = (await s.scalars(select(Message).where(
            Message.handoff_id == second["handoff_id"]))).one()
        msg.status = "unknown"
    assert await fresh.run_once() == 1
    assert len(await notify.twilio.messages(other)) == 1
