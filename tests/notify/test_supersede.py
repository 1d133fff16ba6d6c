"""When keyperson offers a referral to someone else, the older offer ends: its code stops
working and its escalation stops."""

from __future__ import annotations

from tests.notify.conftest import Expectations, NotifyHarness, mobile


async def test_a_newer_offer_for_the_same_referral_ends_the_older_one(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    first, second = mobile(), mobile()
    expect.expect_sms(first, "ACCEPT")
    expect.expect_sms(second, "ACCEPT")
    expect.expect_call(second)  # the newer offer escalates as usual while unanswered
    older = await notify.offer(first)
    await notify.settle()
    newer = await notify.offer(second, n=2, referral_id=older["referral_id"])
    await notify.settle()
    old = await notify.handoff(older["handoff_id"])
    assert old.status == "reassigned"
    assert (await notify.handoff(newer["handoff_id"])).status == "open"

    await notify.twilio.inbound_sms(first, f"ACCEPT {old.reply_code}")
    await notify.settle()
    assert (await notify.handoff(old.id)).status == "reassigned"
    assert notify.peers.to(f"/internal/assignments/{older['referral_id']}/accepted") == []

    await notify.advance(3600)  # the older offer's call and hand-back never happen
    assert await notify.twilio.calls(first) == []


async def test_an_older_offer_arriving_after_a_newer_one_sends_nothing_and_ends_nothing(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    first, second = mobile(), mobile()
    expect.expect_sms(second, "ACCEPT")  # only the newer offer's worker is texted
    newer = await notify.offer(second, n=2)
    await notify.settle()
    older = await notify.offer(first, n=1, referral_id=newer["referral_id"])
    await notify.settle()
    assert (await notify.handoff(older["handoff_id"])).status == "reassigned"
    assert (await notify.handoff(newer["handoff_id"])).status == "open"
    assert await notify.twilio.messages(first) == []
