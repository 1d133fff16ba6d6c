"""What the partner API promises, through the real gateway and services: the timeline shows
every step it documents, and the list filters by reference."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e


async def test_the_timeline_shows_assigned_and_the_list_filters_by_reference(
    stack: Stack,
) -> None:
    worker_phone = f"+447400{uuid.uuid4().int % 1000000:06d}"
    police = stack.auth(f"Police timeline {uuid.uuid4().hex[:6]}")
    staff = stack.auth("Living Well Hub", "staff")
    body = {"subject": {"phone": "07911 123456", "postcode": "SW2 1AA"},
            "reason": "Low and not sleeping.", "needs": ["housing"]}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        worker = await http.post("/api/v1/keyworkers", headers=staff, json={
            "name": "Key Worker", "phone": worker_phone, "localities": ["south_west"],
            "teams": ["hub", "living_well_network"], "skills": [], "max_caseload": 50})
        assert worker.status_code == 201, worker.text
        first = (await http.post("/api/v1/referrals", json=body, headers=police)).json()
        other = (await http.post("/api/v1/referrals", json=body, headers=police)).json()

        async def the_handoff() -> list[dict[str, Any]]:
            return [m for m in await stack.twilio.messages()
                    if first["reference"] in m["body"] and m["to"] == worker_phone]

        [sms] = await eventually(the_handoff, timeout=20, what="the handoff SMS")
        code = re.search(r"ACCEPT (\S+)", sms["body"])
        assert code
        await stack.twilio.inbound_sms(worker_phone, f"accept {code.group(1)}")

        async def accepted() -> dict[str, Any] | None:
            got = (await http.get(f"/api/v1/referrals/{first['id']}", headers=police)).json()
            return got if got["status"] == "accepted" else None

        seen = await eventually(accepted, timeout=20, what="the referral to show accepted")
        steps = [e["event"] for e in seen["timeline"]]
        assert steps == ["received", "routed", "assigned", "accepted"], steps

        listed = await http.get("/api/v1/referrals", headers=police,
                                params={"reference": first["reference"]})
        assert listed.status_code == 200, listed.text
        assert [r["id"] for r in listed.json()["items"]] == [first["id"]]
        assert other["id"] != first["id"]
