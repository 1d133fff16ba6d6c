"""Keyperson through the real processes: a partner referral needing a language goes to the
worker who speaks it, with its reasons; deactivating that worker hands the referral to the
next one with a new SMS; the rota answers through the gateway.

The stack is shared, so this test keeps to its own corner: a language only its workers speak,
workers that take one referral each, and a shift taken off the rota afterwards.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import INTERNAL_TOKEN, Stack, eventually

pytestmark = pytest.mark.e2e

STAFF = ("Living Well Hub", "staff")
PARTNER = "Keyperson Proof Partner"


def mobile() -> str:
    return f"+447400{uuid.uuid4().int % 1000000:06d}"


async def test_a_referral_goes_to_the_worker_who_speaks_the_language_and_moves_on_deactivation(
    stack: Stack,
) -> None:
    # ISO 639 keeps qaa–qtz for private use: a language only this test's workers speak
    # (referral passes on the primary language subtag only).
    language = "q" + random.choice("abcdefghijklmnopqrst") + random.choice(string.ascii_lowercase)
    staff = stack.auth(*STAFF)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        workers = []
        for name in ("First Speaker", "Second Speaker"):
            resp = await http.post("/api/v1/keyworkers", headers=staff, json={
                "name": name, "phone": mobile(), "localities": ["south_west"],
                "teams": ["hub", "living_well_network"], "skills": [f"lang:{language}"],
                "max_caseload": 1})
            assert resp.status_code == 201, resp.text
            workers.append(resp.json())
        ours = {w["id"] for w in workers}

        created = await http.post("/api/v1/referrals", headers={
            **stack.auth(PARTNER), "Idempotency-Key": str(uuid.uuid4())}, json={
            "subject": {"given_name": "Kaye", "family_name": "Proofperson",
                        "phone": mobile(), "postcode": "SW2 1AA",
                        "preferred_language": language},
            "reason": "Needs support in their own language.", "needs": ["isolation"],
            "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                     "safeguarding": False},
            "urgency": "routine", "consent": {"subject_informed": True},
            "referrer": {"name": "Proof", "role": "Support worker"}})
        assert created.status_code == 201, created.text
        referral = created.json()

        async def assignment(attempt: int) -> dict[str, Any] | None:
            got = await http.get(f"/api/v1/assignments/{referral['id']}", headers=staff)
            if got.status_code != 200 or got.json()["attempt"] < attempt:
                return None
            found: dict[str, Any] = got.json()
            return found

        first = await eventually(lambda: assignment(1), timeout=30, what="the assignment")
        assert first["keyworker_id"] in ours and first["via"] == "ranking"
        assert "has every required skill" in first["reasons"]
        holder = first["keyworker_id"]

        resp = await http.delete(f"/api/v1/keyworkers/{holder}", headers=staff)
        assert resp.status_code == 200 and resp.json()["active"] is False
        second = await eventually(lambda: assignment(2), timeout=30, what="the reassignment")
        other = next(w for w in workers if w["id"] != holder)
        assert second["keyworker_id"] == other["id"]

        async def sms_to_second() -> list[dict[str, Any]]:
            return [m for m in await stack.twilio.messages()
                    if m["to"] == other["phone"] and referral["reference"] in m["body"]]

        sent = await eventually(sms_to_second, timeout=30, what="the new handoff SMS")
        assert "Kaye" not in sent[0]["body"] and language not in sent[0]["body"]

        # The rota through the gateway: a crisis duty shift shows in the on-duty list.
        now = await _keyperson_now(stack)
        shift = await http.post("/api/v1/rota/shifts", headers=staff, json={
            "keyworker_id": other["id"], "role": "crisis_duty", "locality": "south_west",
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat()})
        assert shift.status_code == 201, shift.text
        try:
            on_duty = await http.get("/api/v1/rota/on-duty?role=crisis_duty&locality=south_west",
                                     headers=staff)
            assert on_duty.status_code == 200
            assert other["id"] in [e["keyworker_id"] for e in on_duty.json()]
            gaps = await http.get("/api/v1/rota/gaps", headers=staff)
            assert gaps.status_code == 200 and len(gaps.json()) == 9
        finally:
            await http.delete(f"/api/v1/rota/shifts/{shift.json()['id']}", headers=staff)
            await http.delete(f"/api/v1/keyworkers/{other['id']}", headers=staff)


async def _keyperson_now(stack: Stack) -> datetime:
    """The stack's clock as keyperson sees it (tests may have moved it forward)."""
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.post(stack.service_url("keyperson") + "/internal/clock/advance",
                                 json={"seconds": 0}, headers={"x-internal-token": INTERNAL_TOKEN})
        resp.raise_for_status()
        return datetime.fromisoformat(resp.json()["now"])
