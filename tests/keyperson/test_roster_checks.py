"""The roster refuses what would silently break it (issue 12, item 11): a locality or team that
routing never gives (the worker would never get work), and a second active worker with the
same mobile (replies from it could not be told apart)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from services.keyperson import deps
from services.keyperson.areas import SHIPPED_RULES, AreaBook, read_areas
from tests.keyperson.factories import STAFF, mobile, worker
from tests.support.service import ServiceHarness


async def roster_size(keyperson: ServiceHarness) -> int:
    return len((await keyperson.client.get("/api/v1/keyworkers", headers=STAFF)).json())


async def test_a_locality_or_team_routing_never_gives_is_refused_naming_the_field(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    for field, values, loc in (("localities", ["south_west", "mars"], ["localities", 1]),
                               ("teams", ["hubb"], ["teams", 0])):
        resp = await c.post("/api/v1/keyworkers", headers=STAFF, json={
            "name": "Typo", "phone": mobile(), field: values})
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["errors"][0]["loc"] == loc
        assert values[-1] not in resp.text  # named by position, never echoed
    assert await roster_size(keyperson) == 0  # nothing was added

    ada = await worker(c, localities=["hub", "south_east"],
                       teams=["crisis_duty", "ips_alliance", "living_well_network"])
    resp = await c.patch(f"/api/v1/keyworkers/{ada['id']}", headers=STAFF,
                         json={"localities": ["mars"]})
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["localities", 0]
    got = await c.get(f"/api/v1/keyworkers/{ada['id']}", headers=STAFF)
    assert got.json()["localities"] == ["hub", "south_east"]


async def test_a_second_active_worker_with_the_same_mobile_is_refused_naming_phone(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    ada = await worker(c, phone="07400 123456")
    resp = await c.post("/api/v1/keyworkers", headers=STAFF, json={
        "name": "Same Phone", "phone": "+447400123456"})
    assert resp.status_code == 409, resp.text
    assert resp.json()["errors"][0]["loc"] == ["phone"]
    ben = await worker(c)
    resp = await c.patch(f"/api/v1/keyworkers/{ben['id']}", headers=STAFF,
                         json={"phone": "07400123456"})
    assert resp.status_code == 409 and resp.json()["errors"][0]["loc"] == ["phone"]
    # A phone handed on after its worker left the roster may be used again …
    await c.delete(f"/api/v1/keyworkers/{ada['id']}", headers=STAFF)
    cy = await worker(c, phone="07400 123456")
    # … but the worker who left cannot come back with it while someone else has it.
    resp = await c.patch(f"/api/v1/keyworkers/{ada['id']}", headers=STAFF,
                         json={"active": True})
    assert resp.status_code == 409 and resp.json()["errors"][0]["loc"] == ["phone"]
    assert (await c.patch(f"/api/v1/keyworkers/{cy['id']}", headers=STAFF,
                          json={"name": "Cy"})).status_code == 200


async def test_two_workers_added_at_once_with_one_mobile_give_one_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    phone = mobile()
    answers = await asyncio.gather(*(c.post("/api/v1/keyworkers", headers=STAFF, json={
        "name": f"Racer {n}", "phone": phone}) for n in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert all(a.json()["errors"][0]["loc"] == ["phone"] for a in answers
               if a.status_code == 409)


def test_the_shipped_rules_give_the_localities_and_teams_of_routing() -> None:
    areas = read_areas(SHIPPED_RULES)
    assert areas.localities == {"north", "south_west", "south_east", "hub"}
    assert areas.teams == {"hub", "crisis_duty", "ips_alliance", "living_well_network"}


async def test_a_team_added_to_the_rules_file_is_accepted_without_a_restart(
    keyperson: ServiceHarness, tmp_path: Path,
) -> None:
    rules = tmp_path / "routing.yaml"
    data = SHIPPED_RULES.parent.parent / "data" / "lambeth_localities.csv"
    text = SHIPPED_RULES.read_text().replace("../data/lambeth_localities.csv", str(data))
    rules.write_text(text)
    deps.of(keyperson.kit).areas = AreaBook(rules)
    c = keyperson.client
    body = {"name": "Youth Worker", "phone": mobile(), "teams": ["young_adults"]}
    assert (await c.post("/api/v1/keyworkers", headers=STAFF, json=body)).status_code == 422
    rules.write_text(text.replace("  rules:  # first match wins",
                                  "  rules:  # first match wins\n    - team: young_adults\n"
                                  "      needs_any: [employment]\n", 1))
    stat = rules.stat()
    os.utime(rules, (stat.st_atime, stat.st_mtime + 5))  # a later edit, whatever the clock
    assert (await c.post("/api/v1/keyworkers", headers=STAFF, json=body)).status_code == 201


def test_unreadable_rules_keep_the_shipped_defaults(tmp_path: Path) -> None:
    broken = tmp_path / "routing.yaml"
    broken.write_text("teams: [")
    with pytest.raises(ValueError):
        read_areas(broken)
    assert "north" in AreaBook(broken).unknown("localities", ["mars"])[0][1]
    assert AreaBook(broken).unknown("teams", ["hub"]) == []


async def test_a_shift_for_a_locality_routing_never_gives_is_refused(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    ada = await worker(c)
    now = keyperson.kit.clock.now()
    body = {"keyworker_id": ada["id"], "role": "duty_coordinator", "locality": "mars",
            "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=8)).isoformat()}
    resp = await c.post("/api/v1/rota/shifts", headers=STAFF, json=body)
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["locality"]
    resp = await c.post("/api/v1/rota/shifts", headers=STAFF,
                        json={**body, "locality": "south_west", "team": "hubb"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["team"]
    listed = await c.get("/api/v1/rota/shifts", headers=STAFF)
    assert listed.json() == []
