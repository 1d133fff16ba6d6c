"""Referral's board lane: referrals nobody has accepted, soonest due first, with the at-risk
point and the deadline, counted at risk and overdue; coordinators and admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.board.people import refused_everyone_but_coordinators, signed_in
from tests.referral.conftest import Referral
from tests.referral.factories import POLICE, referral_body

LANE = "/api/v1/desk/board/referrals"


async def lane(referral: Referral) -> dict[str, Any]:
    resp = await referral.client.get(LANE, params={"limit": 500},
                                     headers=signed_in("coordinator"))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_a_new_referral_waits_on_the_board_and_its_clock_runs(referral: Referral) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    before = await lane(referral)
    [item] = [r for r in before["items"] if r["reference"] == created["reference"]]
    assert item["urgency"] == "urgent" and item["at_risk_at"] < item["respond_by"]
    assert "subject" not in item and "reason" not in item  # the person is read on their page
    at_risk_at = datetime.fromisoformat(item["at_risk_at"])
    await referral.advance((at_risk_at - referral.harness.kit.clock.now()).total_seconds() + 1)
    at_risk = await lane(referral)
    assert at_risk["at_risk"] >= 1 and at_risk["count"] >= 1


async def test_key_workers_and_keys_get_403(referral: Referral) -> None:
    for headers in refused_everyone_but_coordinators():
        assert (await referral.client.get(LANE, headers=headers)).status_code == 403
