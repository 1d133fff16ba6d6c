"""The front door's hidden paths through the real processes (issue 12), on SQLite and PostgreSQL:
a crisis call nobody answers, from a number the numbering metadata does not list yet, and a
voicemail whose transcription has crisis language. Webhooks are signed as Twilio signs them;
what reaches people's phones is read from the Twilio mock.

The stack is shared by the session's end-to-end tests: each test uses fresh numbers, its own
duty coordinator (whose shift is ended afterwards) and looks only at its own messages.
"""

from __future__ import annotations

import random
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import INTERNAL_TOKEN, Stack, eventually

pytestmark = pytest.mark.e2e
STAFF = "Living Well Hub"
REFERENCE = re.compile(r"LW-[0-9A-Z]{4}-[0-9A-Z]{4}")


def mobile() -> str:
    return f"+447400{random.randint(0, 999999):06d}"


def unlisted() -> str:
    """Possible, but `phonenumbers` does not list the range (as +447911300001)."""
    return f"+4479113{random.randint(0, 99999):05d}"


class Line:
    """One caller on the single number, and one duty coordinator on the rota."""

    def __init__(self, stack: Stack, http: httpx.AsyncClient, caller: str) -> None:
        self.stack, self.http, self.caller = stack, http, caller
        self.call = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
                     "From": caller, "To": stack.twilio_number, "CallStatus": "in-progress",
                     "Direction": "inbound", "ApiVersion": "2010-04-01"}
        self.shifts: list[str] = []

    @property
    def staff(self) -> dict[str, str]:
        return self.stack.auth(STAFF, "staff")

    async def post(self, url: str, **extra: str) -> ET.Element | None:
        """A signed Twilio webhook to the gateway; the TwiML answer, if any."""
        path = url.removeprefix(self.stack.gateway_url)
        form = {**self.call, **extra}
        resp = await self.http.post(path, data=form, headers=self.stack.sign(path, form))
        assert resp.status_code in (200, 204), resp.text
        return ET.fromstring(resp.text) if resp.status_code == 200 else None

    async def coordinator(self) -> str:
        phone = mobile()
        made = await self.http.post("/api/v1/keyworkers", headers=self.staff, json={
            "name": "Front Door Coordinator", "phone": phone, "localities": [], "teams": [],
            "max_caseload": 0})
        assert made.status_code == 201, made.text
        now = datetime.fromisoformat((await self.http.post(
            self.stack.service_url("keyperson") + "/internal/clock/advance",
            json={"seconds": 0}, headers={"x-internal-token": INTERNAL_TOKEN})).json()["now"])
        shift = await self.http.post("/api/v1/rota/shifts", headers=self.staff, json={
            "keyworker_id": made.json()["id"], "role": "duty_coordinator",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat()})
        assert shift.status_code == 201, shift.text
        self.shifts.append(shift.json()["id"])
        return phone

    async def sms_to(self, to: str) -> list[dict[str, Any]]:
        resp = await self.http.get(f"{self.stack.twilio.base_url}/_mock/messages")
        resp.raise_for_status()
        return [m for m in resp.json() if m["to"] == to]

    async def callback(self, **match: Any) -> dict[str, Any]:
        resp = await self.http.get("/api/v1/callbacks", params={"limit": 500},
                                   headers=self.staff)
        assert resp.status_code == 200, resp.text
        mine = [c for c in resp.json() if c["reach"] and c["reach"]["from_raw"] == self.caller
                and all(c[k] == v for k, v in match.items())]
        assert len(mine) == 1, resp.json()
        found: dict[str, Any] = mine[0]
        return found


@pytest.fixture
async def line(stack: Stack) -> AsyncIterator[Line]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        here = Line(stack, http, unlisted())
        yield here
        for shift in here.shifts:  # off the rota, so later tests' alerts do not reach them
            await http.delete(f"/api/v1/rota/shifts/{shift}", headers=here.staff)


async def test_an_unanswered_crisis_call_from_an_unlisted_number_is_never_lost(
    line: Line,
) -> None:
    coordinator = await line.coordinator()
    greeting = await line.post("/twilio/voice")
    assert greeting is not None
    gather = greeting.find("Gather")
    assert gather is not None
    answer = await line.post(gather.get("action", ""), Digits="1")
    rung = 0
    while answer is not None and answer.find("Dial") is not None:  # nobody picks up
        dial = answer.find("Dial")
        assert dial is not None
        rung += 1
        answer = await line.post(dial.get("action", ""), DialCallStatus="no-answer")
    assert rung >= 1 and answer is not None  # the coordinator was rung, at least
    said = " ".join(s.text or "" for s in answer.iter("Say"))
    assert "999" in said
    await line.post("/twilio/voice/status", CallStatus="completed")

    async def alerted() -> list[dict[str, Any]]:
        return [m for m in await line.sms_to(coordinator) if "crisis contact" in m["body"]]

    [alert] = await eventually(alerted, timeout=15, what="the duty coordinator's crisis alert")
    assert "emergency" in alert["body"].lower()
    [told] = await eventually(lambda: line.sms_to(line.caller), timeout=15,
                              what="the caller's signposting text")
    assert "999" in told["body"] and "116 123" in told["body"]
    callback = await line.callback(risk="crisis")
    assert callback["reason"] == "crisis_no_answer" and callback["person_id"]
    assert callback["reach"] == {"from_address": line.caller, "from_raw": line.caller,
                                 "from_verified": False}
    person = (await line.http.get(f"/api/v1/people/{callback['person_id']}",
                                  headers=line.staff)).json()
    assert {"kind": "phone", "value": line.caller, "verified": False} in person["identifiers"]


async def test_a_crisis_voicemail_is_told_to_the_caller_and_alerted_at_once(
    line: Line,
) -> None:
    line.caller = mobile()
    line.call["From"] = line.caller
    coordinator = await line.coordinator()
    greeting = await line.post("/twilio/voice")
    assert greeting is not None
    gather = greeting.find("Gather")
    assert gather is not None
    asked = await line.post(gather.get("action", ""), Digits="2")
    assert asked is not None
    record = asked.find("Record")
    assert record is not None
    await line.post(record.get("action", ""), RecordingUrl="https://api.twilio.example/rec/1",
                    RecordingDuration="25")

    async def confirmed() -> list[dict[str, Any]]:
        return [m for m in await line.sms_to(line.caller) if REFERENCE.search(m["body"])]

    [confirmation] = await eventually(confirmed, timeout=15, what="the caller's confirmation")
    support_reference = REFERENCE.search(confirmation["body"]).group(0)  # type: ignore[union-attr]
    for _ in range(2):  # Twilio may deliver the transcription twice
        await line.post(record.get("transcribeCallback", ""), TranscriptionStatus="completed",
                        TranscriptionText="I have pills here and I am going to end my life")

    async def signposted() -> list[dict[str, Any]]:
        return [m for m in await line.sms_to(line.caller) if "999" in m["body"]
                and support_reference not in m["body"]]

    [told] = await eventually(signposted, timeout=15, what="the caller's crisis text")
    crisis_reference = REFERENCE.search(told["body"]).group(0)  # type: ignore[union-attr]

    async def alerted() -> list[dict[str, Any]]:
        return [m for m in await line.sms_to(coordinator) if crisis_reference in m["body"]
                and "crisis contact" in m["body"]]  # (the emergency may be handed to them too)

    await eventually(alerted, timeout=15, what="the duty coordinator's crisis alert")
    callback = await line.callback(risk="crisis")
    assert callback["reference"] == crisis_reference
    assert callback["reach"]["from_address"] == line.caller

    async def routed() -> dict[str, Any] | None:
        resp = await line.http.get("/api/v1/contacts", params={"reference": support_reference},
                                   headers=line.staff)
        rows: list[dict[str, Any]] = resp.json()
        return rows[0] if rows and rows[0]["crisis"] else None

    contact = await eventually(routed, timeout=10, what="the voicemail contact")
    assert contact["from_raw"] == line.caller and contact["from_verified"] is True
    await line.stack.twilio.settle()
    assert len(await line.sms_to(line.caller)) == 2  # one confirmation, one crisis text
    assert "IntegrityError" not in line.stack.logs()
