"""Handoffs through the real processes (issue 6's "Done when"), on SQLite and on PostgreSQL:
one SMS per handoff; ACCEPT stops escalation; silence escalates SMS → voice call → next key
worker → duty coordinator; a 429 storm at Twilio delays but loses nothing; STOP (21610) from a
key worker alerts the duty coordinator.

The crash between Twilio's answer and notify's commit is proved in-process, where the sender
can be killed at exactly that point: `tests/notify/test_failures.py`.

The stack is shared by every end-to-end test of the session, so each test works in its own
corner: its referrals ask for a language skill only its own key workers have (so they rank
first), its workers take one referral each (so nobody else's referral lands on them), its
duty coordinator's shift is taken off the rota afterwards, and it only looks at messages and
calls about its own references.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.notify.templates import spoken_reference
from tests.support.stack import INTERNAL_TOKEN, Stack, eventually

pytestmark = pytest.mark.e2e

PARTNER = "Notify Proof Partner"

STAFF = "Living Well Hub"
# What the referrals below say about the person: none of it may reach an SMS.
PERSONAL = ("Notifyproof", "np-", "example.org", "SW2", "Acre Lane", "low mood")


def mobile() -> str:
    """A fresh UK mobile number from a range libphonenumber accepts."""
    return f"+447400{random.randint(0, 999999):06d}"


@dataclass
class Corner:
    """One test's own key workers, duty coordinator and referrals on the shared stack."""

    stack: Stack
    http: httpx.AsyncClient
    # A BCP 47 tag from the range kept for local use (qaa–qtz): nobody else's skill.
    language: str = field(default_factory=lambda: "qaa-" + uuid.uuid4().hex[:8])
    workers: dict[str, str] = field(default_factory=dict)  # phone → keyworker id
    shifts: list[str] = field(default_factory=list)

    @property
    def staff(self) -> dict[str, str]:
        return self.stack.auth(STAFF, "staff")

    async def now(self) -> datetime:
        """The stack's clock (every service's clock moves together)."""
        url = self.stack.service_url("keyperson") + "/internal/clock/advance"
        resp = await self.http.post(url, json={"seconds": 0},
                                    headers={"x-internal-token": INTERNAL_TOKEN})
        resp.raise_for_status()
        return datetime.fromisoformat(resp.json()["now"])

    async def worker(self, *, max_caseload: int = 1, serves: bool = True) -> str:
        """A key worker of this corner (south_west, hub, this corner's skill); their phone."""
        phone = mobile()
        resp = await self.http.post("/api/v1/keyworkers", headers=self.staff, json={
            "name": "Notify Proof Worker", "phone": phone,
            "localities": ["south_west"] if serves else [], "teams": ["hub"] if serves else [],
            "skills": [f"lang:{self.language}"] if serves else [], "max_caseload": max_caseload})
        assert resp.status_code == 201, resp.text
        self.workers[phone] = resp.json()["id"]
        return phone

    async def coordinator(self) -> str:
        """A duty coordinator on the rota from now for two hours (never offered referrals)."""
        phone = await self.worker(max_caseload=0, serves=False)
        now = await self.now()
        resp = await self.http.post("/api/v1/rota/shifts", headers=self.staff, json={
            "keyworker_id": self.workers[phone], "role": "duty_coordinator",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat()})
        assert resp.status_code == 201, resp.text
        self.shifts.append(resp.json()["id"])
        return phone

    async def refer(self, urgency: str = "urgent") -> dict[str, Any]:
        """A partner referral only this corner's key workers fit best."""
        subject = {"given_name": "Notifyproof", "family_name": uuid.uuid4().hex[:10],
                   "email": f"np-{uuid.uuid4().hex[:10]}@example.org", "postcode": "SW2 1AA",
                   "preferred_language": self.language}
        body = {"subject": subject, "reason": "Met on Acre Lane, wants support with low mood.",
                "needs": [], "risk": {"immediate_danger": False, "self_harm": False,
                                      "harm_to_others": False, "safeguarding": False},
                "urgency": urgency, "consent": {"subject_informed": True},
                "referrer": {"name": "Notify Proof", "role": "Support worker"}}
        resp = await self.http.post("/api/v1/referrals", json=body, headers={
            **self.stack.auth(PARTNER), "Idempotency-Key": str(uuid.uuid4())})
        assert resp.status_code == 201, resp.text
        referral: dict[str, Any] = resp.json()
        assert (referral["locality"], referral["team"], referral["urgency"]) == (
            "south_west", "hub", urgency)
        return referral

    async def status(self, referral: dict[str, Any]) -> str:
        resp = await self.http.get(f"/api/v1/referrals/{referral['id']}",
                                   headers=self.stack.auth(PARTNER))
        assert resp.status_code == 200, resp.text
        return str(resp.json()["status"])

    async def _mock(self, what: str) -> list[dict[str, Any]]:
        """What the Twilio mock recorded, over the kept-alive client (polled often)."""
        resp = await self.http.get(f"{self.stack.twilio.base_url}/_mock/{what}")
        resp.raise_for_status()
        rows: list[dict[str, Any]] = resp.json()
        return rows

    async def sms_about(self, reference: str) -> list[dict[str, Any]]:
        return [m for m in await self._mock("messages") if reference in m["body"]]

    async def ours(self, rows: Awaitable[list[dict[str, Any]]]) -> list[str]:
        """To which of this test's phones `rows` went (others' coordinators left out)."""
        return [r["to"] for r in await rows if r["to"] in self.workers]

    async def calls_about(self, reference: str) -> list[dict[str, Any]]:
        spoken = spoken_reference(reference)
        return [c for c in await self._mock("calls") if any(spoken in s for s in c["says"])]

    async def handoff_sms(self, referral: dict[str, Any], *, besides: tuple[str, ...] = (),
                          timeout: float = 15.0) -> dict[str, Any]:
        """The one handoff SMS about `referral` to someone not in `besides`, once sent."""

        async def sent() -> list[dict[str, Any]]:
            return [m for m in await self.sms_about(referral["reference"])
                    if "ACCEPT" in m["body"] and m["to"] not in besides]

        texts: list[dict[str, Any]] = await eventually(sent, timeout=timeout,
                                                       what="the handoff SMS")
        [sms] = texts
        assert sms["to"] in self.workers, "a key worker of this test"
        for personal in PERSONAL:
            assert personal.lower() not in sms["body"].lower(), f"{personal!r} leaked"
        return sms

    async def call(self, referral: dict[str, Any], to: str) -> dict[str, Any]:
        """The one call about `referral` to `to`, once it waits at its keypad menu."""

        async def rung() -> list[dict[str, Any]]:
            return [c for c in await self.calls_about(referral["reference"])
                    if c["to"] == to and c["gather"]]

        calls: list[dict[str, Any]] = await eventually(rung, timeout=10, what=f"the call to {to}")
        [call] = calls
        return call

    async def handoffs(self, referral: dict[str, Any]) -> list[dict[str, Any]]:
        """Notify's handoffs of `referral` with their timelines, first offer first."""
        resp = await self.http.get("/api/v1/handoffs", headers=self.staff,
                                   params={"referral_id": referral["id"]})
        assert resp.status_code == 200, resp.text
        out = []
        for h in sorted(resp.json(), key=lambda h: h["offer"]):
            detail = await self.http.get(f"/api/v1/handoffs/{h['id']}", headers=self.staff)
            assert detail.status_code == 200, detail.text
            out.append(detail.json())
        return out

    async def alerts_about(self, reference: str) -> list[str]:
        resp = await self.http.get("/api/v1/alerts", headers=self.staff, params={"limit": 500})
        assert resp.status_code == 200, resp.text
        return [a["kind"] for a in resp.json() if a["reference"] == reference]

    async def reply(self, phone: str, body: str) -> str:
        """The key worker texts the single number; the TwiML answer."""
        out = await self.stack.twilio.inbound_sms(phone, body)
        assert out["status"] == 200, out
        return str(out["twiml"])

    async def accept(self, sms: dict[str, Any], referral: dict[str, Any]) -> None:
        """The worker accepts by SMS, with the code from `sms`; wait for the partner to see it."""
        answer = await self.reply(sms["to"], f"Accept {code_in(sms)}!")
        assert f"Accepted {referral['reference']}" in answer

        async def accepted() -> bool:
            return await self.status(referral) == "accepted"

        await eventually(accepted, timeout=10, what="the referral to show accepted")

    async def tidy(self) -> None:
        """Take this test's shifts off the rota and its idle workers off the roster."""
        for shift in self.shifts:
            resp = await self.http.delete(f"/api/v1/rota/shifts/{shift}", headers=self.staff)
            assert resp.status_code in (204, 404), resp.text
        for worker in self.workers.values():
            got = await self.http.get(f"/api/v1/keyworkers/{worker}", headers=self.staff)
            if got.status_code == 200 and got.json()["caseload"] == 0:
                await self.http.delete(f"/api/v1/keyworkers/{worker}", headers=self.staff)


def code_in(sms: dict[str, Any]) -> str:
    found = re.search(r"ACCEPT (\S+) or DECLINE (\S+)\b", sms["body"])
    assert found and found.group(1) == found.group(2), sms["body"]
    return found.group(1)


def seconds_between(timeline: list[dict[str, Any]], first: str, then: str) -> float:
    at = {t["step"]: datetime.fromisoformat(t["at"]) for t in reversed(timeline)}
    return (at[then] - at[first]).total_seconds()


@pytest.fixture
async def corner(stack: Stack) -> AsyncIterator[Corner]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        c = Corner(stack, http)
        try:
            yield c
        finally:
            await c.tidy()


async def test_one_sms_per_handoff_and_accept_stops_the_escalation(corner: Corner) -> None:
    for _ in range(3):
        await corner.worker()
    accepted, control = await corner.refer(), await corner.refer()
    sms = await corner.handoff_sms(accepted)
    control_sms = await corner.handoff_sms(control)
    assert sms["to"] != control_sms["to"]
    assert sms["from"] == corner.stack.twilio_number
    assert sms["status_callback"] == corner.stack.gateway_url + "/twilio/status"

    await corner.accept(sms, accepted)
    [h] = await corner.handoffs(accepted)
    assert h["status"] == "accepted"

    # Past the +10 min call: the control handoff (offered at the same moment, unanswered)
    # is called, which shows its timers ran; the accepted one is not.
    await corner.stack.advance_clock(600)
    await corner.call(control, control_sms["to"])
    assert await corner.calls_about(accepted["reference"]) == []
    # Past +15 min: the control goes to the next key worker; the accepted one goes nowhere.
    await corner.stack.advance_clock(300)
    next_sms = await corner.handoff_sms(control, besides=(control_sms["to"],), timeout=10)
    assert next_sms["to"] != sms["to"]
    await corner.stack.twilio.settle()
    assert [m["sid"] for m in await corner.sms_about(accepted["reference"])] == [sms["sid"]]
    assert await corner.calls_about(accepted["reference"]) == []
    assert await corner.status(accepted) == "accepted"
    [h] = await corner.handoffs(accepted)
    assert h["status"] == "accepted" and [m["kind"] for m in h["messages"]] == ["handoff"]
    assert h["messages"][0]["status"] == "delivered"
    await corner.accept(next_sms, control)  # leave nothing escalating on the shared stack


async def test_silence_escalates_sms_then_call_then_next_worker_then_coordinator(
    corner: Corner,
) -> None:
    for _ in range(3):
        await corner.worker()
    coordinator = await corner.coordinator()
    referral = await corner.refer("urgent")
    ref = referral["reference"]
    first = (await corner.handoff_sms(referral))["to"]

    await corner.stack.advance_clock(600)
    call = await corner.call(referral, first)
    [offer1] = await corner.handoffs(referral)
    assert call["gather"]["action"] == (
        f"{corner.stack.gateway_url}/twilio/status/handoff-call/{offer1['id']}")
    assert "Press 1 to accept, or 2 to decline." in call["says"][0]

    await corner.stack.advance_clock(300)
    second = (await corner.handoff_sms(referral, besides=(first,), timeout=10))["to"]
    offer1, offer2 = await corner.handoffs(referral)
    assert offer1["status"] == "expired" and offer2["status"] == "open"
    assert [t["step"] for t in offer1["timeline"]][-1] == "next_candidate"
    assert 600 <= seconds_between(offer1["timeline"], "offered", "call") < 660
    assert 900 <= seconds_between(offer1["timeline"], "offered", "next_candidate") < 960
    assert await corner.alerts_about(ref) == [], "the first offer does not alert"

    await corner.stack.advance_clock(600)
    await corner.call(referral, second)
    await corner.stack.advance_clock(300)

    async def alerted() -> list[dict[str, Any]]:
        return [m for m in await corner.sms_about(ref) if m["to"] == coordinator]

    [alert] = await eventually(alerted, timeout=10, what="the duty coordinator's alert")
    assert "nobody has accepted" in alert["body"]
    last_sms = await corner.handoff_sms(referral, besides=(first, second), timeout=10)
    third = last_sms["to"]
    assert await corner.alerts_about(ref) == ["no_answer"]
    offer2 = (await corner.handoffs(referral))[1]
    steps = [t["step"] for t in offer2["timeline"]]
    assert steps.index("call") < steps.index("alert_coordinator") < steps.index("next_candidate")
    await corner.stack.twilio.settle()
    assert sorted(await corner.ours(corner.sms_about(ref))) == sorted(
        [first, second, third, coordinator]), "one SMS per handoff, one alert"
    assert sorted(c["to"] for c in await corner.calls_about(ref)) == sorted([first, second])
    await corner.accept(last_sms, referral)


async def test_a_429_storm_delays_every_handoff_but_loses_none(corner: Corner) -> None:
    workers = [await corner.worker() for _ in range(3)]
    for phone in workers:
        await corner.stack.twilio.fault(resource="messages", to=phone, status=429, code=20429,
                                        message="Too Many Requests", retry_after=30, times=3)
    referrals = [await corner.refer("routine") for _ in workers]

    async def tries() -> list[tuple[int, str]]:
        out = []
        for r in referrals:
            hs = await corner.handoffs(r)
            if hs and hs[0]["messages"]:
                out.append((hs[0]["messages"][0]["attempts"], hs[0]["messages"][0]["status"]))
        return out

    for tried in (1, 2, 3):

        async def refused(n: int = tried) -> bool:  # and its retry booked, 30 s on
            return await tries() == [(n, "pending")] * len(referrals)

        await eventually(refused, timeout=15, what=f"attempt {tried} of every handoff SMS")
        for r in referrals:
            assert await corner.sms_about(r["reference"]) == [], "held back by the storm"
        await corner.stack.advance_clock(31)  # Retry-After: 30
    sent = [await corner.handoff_sms(r, timeout=10) for r in referrals]
    await corner.stack.twilio.settle()
    assert sorted(s["to"] for s in sent) == sorted(workers)
    for r in referrals:
        assert len(await corner.sms_about(r["reference"])) == 1, "each exactly once"
        [h] = await corner.handoffs(r)
        assert [(m["attempts"], m["status"]) for m in h["messages"]] == [(4, "delivered")]
    for sms, r in zip(sent, referrals, strict=True):
        await corner.accept(sms, r)


async def test_stop_21610_from_a_worker_alerts_the_coordinator_and_calls_instead(
    corner: Corner,
) -> None:
    worker = await corner.worker()
    coordinator = await corner.coordinator()
    # The worker once texted STOP to the line: Twilio now refuses every SMS to them.
    await corner.stack.twilio.fault(resource="messages", to=worker, status=400, code=21610,
                                    message="Attempt to send to unsubscribed recipient",
                                    times=None)
    referral = await corner.refer("urgent")
    ref = referral["reference"]

    async def alerted() -> list[dict[str, Any]]:
        return [m for m in await corner.sms_about(ref) if m["to"] == coordinator]

    [alert] = await eventually(alerted, timeout=15, what="the duty coordinator's alert")
    assert "key worker opted out of SMS" in alert["body"]
    call = await corner.call(referral, worker)
    assert await corner.alerts_about(ref) == ["worker_stopped"]
    [h] = await corner.handoffs(referral)
    by_kind = {m["kind"]: m for m in h["messages"]}
    assert (by_kind["handoff"]["status"], by_kind["handoff"]["error_code"]) == ("failed", 21610)
    assert "channel_switch" in [t["step"] for t in h["timeline"]]
    assert await corner.ours(corner.sms_about(ref)) == [coordinator]
    answer = await corner.stack.twilio.press(call["sid"], "1")  # the call still reaches them
    assert "Accepted" in answer["twiml"]

    async def accepted() -> bool:
        return await corner.status(referral) == "accepted"

    await eventually(accepted, timeout=10, what="the referral to show accepted")


async def test_a_worker_texting_stop_to_the_line_alerts_the_coordinator(corner: Corner) -> None:
    worker = await corner.worker()
    coordinator = await corner.coordinator()
    referral = await corner.refer("urgent")
    sms = await corner.handoff_sms(referral)
    try:
        await corner.reply(worker, "STOP")

        async def alerted() -> list[dict[str, Any]]:
            return [m for m in await corner.sms_about(referral["reference"])
                    if m["to"] == coordinator and "opted out" in m["body"]]

        await eventually(alerted, timeout=10, what="the duty coordinator's alert")
    finally:  # leave nothing escalating on the shared stack
        await corner.reply(worker, "START")
        await corner.accept(sms, referral)
