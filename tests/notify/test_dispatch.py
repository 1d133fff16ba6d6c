"""The dispatcher keeps several sends waiting on Twilio at once, within the configured bound."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.notify.conftest import Expectations, NotifyHarness, mobile, notify_config


@pytest.mark.parametrize("notify_service",
                         [notify_config(dispatch_in_background=False, send_concurrency=3)],
                         ids=["manual-dispatch"], indirect=True, scope="module")
async def test_sends_wait_on_twilio_together_up_to_the_bound(
    notify: NotifyHarness, expect: Expectations, monkeypatch: pytest.MonkeyPatch,
) -> None:
    workers = [mobile() for _ in range(5)]
    for worker in workers:
        expect.expect_sms(worker, "ACCEPT")
        await notify.offer(worker)
    dispatcher = notify.dispatcher
    sms = dispatcher.sms
    real_send = sms.send
    in_flight, peak = 0, 0

    async def slow_twilio(to: str, body: str, **kw: Any) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05)  # Twilio's round trip
            return await real_send(to, body, **kw)
        finally:
            in_flight -= 1

    monkeypatch.setattr(sms, "send", slow_twilio)
    assert await dispatcher.run_once() == 5
    assert peak == 3  # together, but never more than send_concurrency
    for worker in workers:
        assert len(await notify.twilio.messages(worker)) == 1
