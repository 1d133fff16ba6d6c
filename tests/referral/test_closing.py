"""Closing a referral ends the key worker's part in it: keyperson is told, once."""

from __future__ import annotations

from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, STAFF, referral_body
from tests.referral.test_spine import _resolved


async def test_staff_closing_a_routed_referral_tells_keyperson_once(referral: Service) -> None:
    referral.neighbours.answers["/internal/people/resolve"] = _resolved
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    await referral.until(lambda: referral.neighbours.to("/internal/assignments", rid))
    path = f"/api/v1/referrals/{rid}/events"
    closed = await referral.client.post(path, headers=STAFF,
                                        json={"event": "closed", "outcome": "supported"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    again = await referral.client.post(path, headers=STAFF, json={"event": "closed"})
    assert again.status_code == 200
    [told] = await referral.until(
        lambda: referral.neighbours.to(f"/internal/assignments/{rid}/closed"))
    assert told["reason"] == "closed"
    assert referral.neighbours.to(f"/internal/assignments/{rid}/closed") == [told]
