"""Routing rules as data: a table of cases, dry runs, and reloading without a restart."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.referral.routing import RoutingInput, decide
from services.referral.routing_cases import run_routing_test
from services.referral.rules import DEFAULT_RULES, RulesStore, load_rules
from tests.referral.conftest import Referral as Service
from tests.referral.conftest import copy_rules
from tests.referral.factories import POLICE, STAFF, referral_body, subject
from tests.support.service import key_headers

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ADMIN = key_headers("Living Well Hub", "admin")  # reloading the rules is admin-only

# (case, postcode, needs, referrer's urgency, risk flags, urgency, locality, team)
CASES: list[tuple[str, str | None, list[str], str | None, list[str], str, str, str]] = [
    ("SW2 police referral", "SW2 1AA", ["housing"], "urgent", [], "urgent", "south_west",
     "living_well_network"),
    ("lower-case postcode without a space", "se11 5aa", [], "routine", [], "routine", "north",
     "hub"),
    ("out of area goes to the hub", "SW19 1AA", ["debt"], "routine", [], "routine", "hub",
     "living_well_network"),
    ("missing postcode goes to the hub", None, [], None, [], "routine", "hub", "hub"),
    ("not a UK postcode goes to the hub", "75001", [], None, [], "routine", "hub", "hub"),
    ("self-harm raises routine", "SE27 9AA", [], "routine", ["self_harm"], "very_urgent",
     "south_east", "hub"),
    ("harm to others raises urgent", "SW16 2AA", [], "urgent", ["harm_to_others"],
     "very_urgent", "south_west", "hub"),
    ("safeguarding raises routine to urgent", "SW4 7AA", [], "routine", ["safeguarding"],
     "urgent", "south_west", "hub"),
    ("flags never lower the referrer's view", "SW4 7AA", [], "very_urgent", ["safeguarding"],
     "very_urgent", "south_west", "hub"),
    ("immediate danger is an emergency on the crisis route", "SW8 1AA", ["housing"], "routine",
     ["immediate_danger"], "emergency", "north", "crisis_duty"),
    ("substance use goes to the alliance", "SE24 0AA", ["substance_use"], None, [], "routine",
     "south_east", "ips_alliance"),
    ("three needs go to the alliance", "SE1 7PB", ["housing", "debt", "isolation"], None, [],
     "routine", "north", "ips_alliance"),
    ("employment goes to the network partners", "SE1 7PB", ["employment"], None, [], "routine",
     "north", "living_well_network"),
]
WINDOWS = {"emergency": timedelta(hours=1), "very_urgent": timedelta(hours=4),
           "urgent": timedelta(hours=24), "routine": timedelta(days=7)}


@pytest.mark.parametrize(("postcode", "needs", "asked", "flags", "urgency", "locality", "team"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_routing_table(postcode: str | None, needs: list[str], asked: Any, flags: list[str],
                       urgency: str, locality: str, team: str) -> None:
    route = decide(load_rules(DEFAULT_RULES),
                   RoutingInput(asked, {f: True for f in flags}, needs, postcode), NOW)
    assert (route.urgency, route.locality, route.team) == (urgency, locality, team)
    assert route.respond_by - NOW == WINDOWS[urgency]
    assert route.sla_alert_at - NOW == WINDOWS[urgency] * 0.75
    assert route.rules_version == "2026-11-21.1" and len(route.reasons) >= 3


def test_an_ambiguous_district_without_an_override_goes_to_the_hub_and_says_why(
    tmp_path: Path,
) -> None:
    path = copy_rules(tmp_path)
    path.write_text(path.read_text().replace("    SW2: south_west\n", ""))
    route = decide(load_rules(path), RoutingInput(None, {}, [], "SW2 1AA"), NOW)
    assert route.locality == "hub"
    assert "SW2 spans south_east and south_west" in " ".join(route.reasons)


async def test_out_of_area_referral_is_accepted_and_stores_its_reasons(
    referral: Service,
) -> None:
    body = referral_body(subject=subject(postcode="M1 1AE"))
    created = await referral.client.post("/api/v1/referrals", json=body, headers=POLICE)
    assert created.status_code == 201
    assert created.json()["locality"] == "hub"
    route = (await referral.client.get(f"/api/v1/referrals/{created.json()['id']}/route",
                                       headers=STAFF)).json()
    assert route["rules_version"] == "2026-11-21.1"
    assert any("M1 is outside the area" in r for r in route["reasons"])
    denied = await referral.client.get(f"/api/v1/referrals/{created.json()['id']}/route",
                                       headers=POLICE)
    assert denied.status_code == 403


async def test_dry_run_answers_without_saving(referral: Service) -> None:
    resp = await referral.client.post("/api/v1/routing/dry-run", headers=POLICE, json={
        "postcode": "SE27 9AA", "needs": ["substance_use"], "urgency": "routine",
        "risk": {"self_harm": True}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["urgency"], body["locality"], body["team"]) == (
        "very_urgent", "south_east", "ips_alliance")
    assert "self_harm raises urgency to very_urgent" in body["reasons"]
    listed = (await referral.client.get("/api/v1/referrals", headers=POLICE)).json()["items"]
    assert all(r["team"] != "ips_alliance" for r in listed)


def _bump(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    stat = path.stat()  # make sure the change is seen even within one mtime tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


async def test_a_changed_rules_file_is_picked_up_without_a_restart(referral: Service) -> None:
    _bump(referral.rules_path, 'version: "2026-11-21.1"', 'version: "2026-11-21.2"')
    _bump(referral.rules_path, "routine: 7d", "routine: 28d")
    resp = await referral.client.post("/api/v1/routing/dry-run", headers=POLICE,
                                      json={"urgency": "routine"})
    body = resp.json()
    assert body["rules_version"] == "2026-11-21.2"
    assert "routine: respond within 28 days" in body["reasons"]


async def test_a_broken_rules_file_is_refused_and_the_old_rules_stay(referral: Service) -> None:
    _bump(referral.rules_path, "urgent: 24h", "urgent: soon")
    reload = await referral.client.post("/api/v1/routing/reload", headers=ADMIN)
    assert reload.status_code == 422
    detail = reload.json()["detail"]
    assert "urgency.windows.urgent" in detail and "stay at version 2026-11-21.1" in detail
    status = (await referral.client.get("/api/v1/routing/rules", headers=STAFF)).json()
    assert status["version"] == "2026-11-21.1" and "urgency.windows.urgent" in status["last_error"]
    created = await referral.client.post("/api/v1/referrals", json=referral_body(),
                                         headers=POLICE)
    assert created.status_code == 201 and created.json()["urgency"] == "urgent"
    respond_by = datetime.fromisoformat(created.json()["respond_by"])
    assert respond_by - datetime.fromisoformat(created.json()["created_at"]) == WINDOWS["urgent"]
    _bump(referral.rules_path, "urgent: soon", "urgent: 12h")
    fixed = await referral.client.post("/api/v1/routing/reload", headers=ADMIN)
    assert fixed.json() == {"version": "2026-11-21.1", "changed": True}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("teams:", "teams: [", "not valid YAML"),
    ("    SW9: north", "    SW9: westminster", "unknown locality 'westminster'"),
    ("needs_any: [substance_use]", "needs_any: [gardening]", "teams.rules.0.needs_any.0"),
    ("data: ../data/lambeth_localities.csv", "data: ../data/missing.csv",
     "cannot read locality data"),
    ("    safeguarding: urgent\n", "    safeguarding: urgent\n    tarot: routine\n",
     "risk_floors.tarot"),
], ids=["yaml", "locality", "need", "data-file", "flag"])
def test_bad_rules_are_refused_with_a_clear_message(tmp_path: Path, old: str, new: str,
                                                    message: str) -> None:
    path = copy_rules(tmp_path)
    store = RulesStore(path)
    _bump(path, old, new)
    result = store.reload()
    assert result.error and message in result.error
    assert store.ruleset.version == "2026-11-21.1"


def test_the_example_cases_pass_and_a_wrong_expectation_fails(tmp_path: Path) -> None:
    cases = DEFAULT_RULES.parent / "cases.csv"
    out = io.StringIO()
    assert run_routing_test(cases, out=out) == 0
    assert "14 passed, 0 failed" in out.getvalue()
    broken = tmp_path / "cases.csv"
    broken.write_text(cases.read_text().replace("urgent,south_west,living_well_network",
                                                "routine,south_west,living_well_network", 1))
    out = io.StringIO()
    assert run_routing_test(broken, out=out) == 1
    assert "FAIL" in out.getvalue() and "urgency: expected routine, got urgent" in out.getvalue()
    bad_rules = copy_rules(tmp_path / "bad")
    bad_rules.write_text("version: 1\n")
    assert run_routing_test(cases, bad_rules, out=io.StringIO()) == 2


async def test_the_routing_table_holds_through_the_running_service(referral: Service) -> None:
    for name, postcode, needs, asked, flags, urgency, locality, team in CASES:
        resp = await referral.client.post("/api/v1/routing/dry-run", headers=POLICE, json={
            "postcode": postcode, "needs": needs, "urgency": asked,
            "risk": {f: True for f in flags}})
        got = resp.json()
        assert (got["urgency"], got["locality"], got["team"]) == (urgency, locality, team), name
