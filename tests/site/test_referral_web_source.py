"""Referral takes intake's self-referral for a website contact (`"source": "web"`): without it
every message from the contact form would wait in intake's outbox and never be routed."""

from __future__ import annotations

from services.common.ids import new_reference
from tests.referral.conftest import Referral, referral  # noqa: F401 - the fixture


async def test_a_website_self_referral_is_routed_like_a_text(
        referral: Referral) -> None:  # noqa: F811
    reference = new_reference()
    resp = await referral.client.post("/internal/referrals", json={
        "reference": reference, "source": "web", "contact_id": "c-web-1", "person_id": "p-web",
        "reason": "Self-referral by web: the message is held by intake (contact c-web-1).",
        "risk": {"immediate_danger": False, "self_harm": True, "harm_to_others": False,
                 "safeguarding": False}, "urgency": "emergency", "postcode": None, "needs": []},
        headers={"Idempotency-Key": f"referral:{reference}"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["reference"] == reference and resp.json()["urgency"] == "emergency"
