"""Twilio answering 500, 429 and not at all while handoffs go out; intake frozen while calls
and texts arrive. Every handoff still reaches the phone exactly once, every caller hears the
fail-safe in time, and every text the gateway took is a contact once intake is back."""

from __future__ import annotations

import os
import signal
import time
import uuid

import httpx
import pytest

from tests.faults.conftest import (
    assert_exactly_once,
    child_pid,
    contact_counts,
    prepare,
    traffic,
)
from tests.support.stack import Stack, eventually

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

FAILSAFE_WITHIN = 2.0


async def test_handoffs_survive_twilio_errors_rate_limits_and_timeouts(stack: Stack) -> None:
    await prepare(stack)
    await stack.twilio.reset()
    for fault in (
        {"resource": "messages", "status": 500, "code": 20500, "times": 3},
        {"resource": "messages", "status": 429, "code": 20429, "message": "Too Many Requests",
         "retry_after": 1, "times": 3},
        {"resource": "messages", "status": 500, "delay": 4.0, "times": 2},  # never created
        {"resource": "messages", "status": 500, "delay": 4.0, "times": 2,
         "after_create": True},  # created, but the answer never comes in time
    ):
        await stack.twilio.fault(**fault)
    async with traffic(stack) as t, httpx.AsyncClient(base_url=stack.twilio.base_url) as mock:
        async def every_fault_met() -> bool:
            left: list[object] = (await mock.get("/_mock/faults")).json()
            return left == []

        await eventually(every_fault_met, timeout=90, interval=0.5,
                         what="the traffic to meet every fault")
    await assert_exactly_once(stack, t)


def _call(stack: Stack) -> dict[str, str]:
    return {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": f"+4479118{uuid.uuid4().int % 100_000:05d}", "To": stack.twilio_number,
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


async def test_with_intake_frozen_every_call_gets_the_failsafe_and_no_text_is_lost(
    stack: Stack,
) -> None:
    await prepare(stack, workers=1)
    intake = child_pid(stack, "intake")
    timings: list[float] = []
    os.kill(intake, signal.SIGSTOP)
    try:
        async with traffic(stack, per_second=2.0) as t, \
                httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as http:
            for _ in range(6):
                call = _call(stack)
                started = time.monotonic()
                resp = await http.post("/twilio/voice", data=call,
                                       headers=stack.sign("/twilio/voice", call))
                timings.append(time.monotonic() - started)
                assert resp.status_code == 200
                assert "999" in resp.text and "<Say" in resp.text, resp.text
            await eventually(lambda: len(t.sms) >= 3, timeout=30,
                             what="texts taken while intake is frozen")
    finally:
        os.kill(intake, signal.SIGCONT)
    assert child_pid(stack, "intake") == intake, "a frozen process is not a dead one"
    assert t.sms, f"the gateway must take texts while intake is frozen: {t.refused}"

    async def all_contacts() -> bool:
        counts = contact_counts(stack, t.sms)
        return len(counts) == len(t.sms)

    await eventually(all_contacts, timeout=60, interval=1.0,
                     what="every spooled text to be replayed into intake")
    await assert_exactly_once(stack, t)
    assert max(timings) < FAILSAFE_WITHIN, timings
    assert max(t.voice_seconds) < FAILSAFE_WITHIN, t.voice_seconds


async def test_with_intake_frozen_the_failsafe_answers_in_under_two_seconds(
    stack: Stack,
) -> None:
    intake = child_pid(stack, "intake")
    os.kill(intake, signal.SIGSTOP)
    try:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as http:
            call = _call(stack)
            started = time.monotonic()
            resp = await http.post("/twilio/voice", data=call,
                                   headers=stack.sign("/twilio/voice", call))
            elapsed = time.monotonic() - started
    finally:
        os.kill(intake, signal.SIGCONT)
    assert resp.status_code == 200 and "999" in resp.text
    assert elapsed < FAILSAFE_WITHIN, elapsed
