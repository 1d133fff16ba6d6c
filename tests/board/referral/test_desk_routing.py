"""The routing rules in force for coordinators and admins: version, windows in words,
localities and teams as the YAML says them, and the dry run giving exactly what a referral
would get (nothing saved); a bad dry run is a 422 naming the field; key workers and keys 403."""

from __future__ import annotations

from sqlalchemy import func, select

from services.referral.models import Referral as ReferralRow
from tests.board.people import refused_everyone_but_coordinators, signed_in
from tests.referral.conftest import Referral
from tests.referral.factories import STAFF

RULES = "/api/v1/desk/routing"


async def test_the_rules_in_force_read_in_words(referral: Referral) -> None:
    resp = await referral.client.get(RULES, headers=signed_in("coordinator"))
    assert resp.status_code == 200, resp.text
    r = resp.json()
    staff = (await referral.client.get("/api/v1/routing/rules", headers=STAFF)).json()
    assert (r["version"], r["source"], r["last_error"]) == (staff["version"], "routing.yaml",
                                                            None)
    windows = {w["urgency"]: w for w in r["windows"]}
    assert windows["routine"]["respond_within"] == "7 days"
    assert windows["emergency"]["respond_within"] == "1 hour"
    assert windows["urgent"]["alert_after"] == "18 hours"  # 0.75 of 24 hours
    assert r["risk_floors"]["immediate_danger"] == "emergency"
    assert {"north", "south_west", "south_east"} <= set(r["localities"])
    assert "SW2" in r["localities"]["south_west"] and r["overrides"]["SW2"] == "south_west"
    assert r["emergency_team"] == "crisis_duty" and r["default_team"] == "hub"
    assert r["team_rules"][0] == {"team": "ips_alliance", "when": "any of: substance use",
                                  "reason": r["team_rules"][0]["reason"]}


async def test_the_dry_run_routes_without_saving(referral: Referral) -> None:
    async with referral.harness.kit.db.sessionmaker() as s:
        before = await s.scalar(select(func.count()).select_from(ReferralRow))
    resp = await referral.client.post(f"{RULES}/dry-run", headers=signed_in("admin"), json={
        "risk": {"self_harm": True}, "needs": ["housing"], "postcode": "SW2 1AA"})
    assert resp.status_code == 200, resp.text
    route = resp.json()
    assert (route["urgency"], route["locality"], route["team"]) == (
        "very_urgent", "south_west", "living_well_network")
    assert route["reasons"]
    bad = await referral.client.post(f"{RULES}/dry-run", headers=signed_in("coordinator"),
                                     json={"risk": {"self_harm": "yes"}})
    assert bad.status_code == 422 and "self_harm" in bad.text
    async with referral.harness.kit.db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ReferralRow)) == before


async def test_key_workers_and_keys_get_403(referral: Referral) -> None:
    for headers in refused_everyone_but_coordinators():
        assert (await referral.client.get(RULES, headers=headers)).status_code == 403
        assert (await referral.client.post(f"{RULES}/dry-run", json={},
                                           headers=headers)).status_code == 403
