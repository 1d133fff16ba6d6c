"""The key worker roster for coordinators and admins, through the staff API's own handlers:
a worker added and edited (localities, teams, skills, caseload), absences added and
cancelled, a worker taken off the roster; the same refusals (422 naming the field and
changing nothing, a shared phone 409); audited with the desk account; key workers and keys
get 403."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.keyperson.models import AuditEntry, KeyWorker
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.keyperson.factories import mobile, worker
from tests.support.service import ServiceHarness

ROSTER = "/api/v1/desk/keyworkers"
COORD = signed_in("coordinator", COORDINATOR)


async def listed(keyperson: ServiceHarness) -> dict[str, Any]:
    resp = await keyperson.client.get(ROSTER, headers=COORD)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_a_worker_added_edited_away_and_taken_off(keyperson: ServiceHarness) -> None:
    now = keyperson.kit.clock.now()
    added = await keyperson.client.post(ROSTER, headers=COORD, json={
        "name": "Zed Added", "phone": mobile(), "localities": ["north"], "teams": ["hub"],
        "skills": ["lang:pl"], "max_caseload": 12})
    assert added.status_code == 201, added.text
    wid = added.json()["id"]
    roster = await listed(keyperson)
    assert {"north", "south_west", "south_east", "hub"} <= set(roster["localities"])
    assert "ips_alliance" in roster["teams"]
    [me] = [w for w in roster["workers"] if w["id"] == wid]
    assert (me["caseload"], me["max_caseload"], me["absences"]) == (0, 12, [])
    edited = await keyperson.client.patch(f"{ROSTER}/{wid}", headers=COORD, json={
        "localities": ["north", "south_east"], "skills": ["lang:pl", "young_adults"],
        "max_caseload": 15})
    assert edited.status_code == 200, edited.text
    assert edited.json()["localities"] == ["north", "south_east"]
    away = await keyperson.client.post(f"{ROSTER}/{wid}/absences", headers=COORD, json={
        "kind": "leave", "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat()})
    assert away.status_code == 201, away.text
    [me] = [w for w in (await listed(keyperson))["workers"] if w["id"] == wid]
    assert [a["id"] for a in me["absences"]] == [away.json()["id"]]
    gone = await keyperson.client.delete(f"{ROSTER}/{wid}/absences/{away.json()['id']}",
                                         headers=signed_in("admin"))
    assert gone.status_code == 204
    off = await keyperson.client.patch(f"{ROSTER}/{wid}", headers=COORD,
                                       json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    workers = (await listed(keyperson))["workers"]
    assert workers[-1]["id"] == wid and all(w["active"] for w in workers[:-1])
    async with keyperson.kit.db.sessionmaker() as session:
        done = {(a.action, a.actor_id) for a in await session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == wid))}
    assert {("create", COORDINATOR), ("update", COORDINATOR)} <= done


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    keyperson: ServiceHarness,
) -> None:
    now = keyperson.kit.clock.now()
    first = await worker(keyperson.client, name="Ann Kept")
    bad = await keyperson.client.patch(f"{ROSTER}/{first['id']}", headers=COORD,
                                       json={"localities": ["atlantis"], "max_caseload": 3})
    assert bad.status_code == 422 and "localities" in bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    shared = await keyperson.client.post(ROSTER, headers=COORD, json={
        "name": "Copy", "phone": first["phone"], "localities": ["north"], "teams": ["hub"]})
    assert shared.status_code == 409 and "phone" in shared.text
    backwards = await keyperson.client.post(f"{ROSTER}/{first['id']}/absences", headers=COORD,
                                            json={"starts_at": now.isoformat(),
                                                  "ends_at": (now - timedelta(hours=1))
                                                  .isoformat()})
    assert backwards.status_code == 422 and "ends_at" in backwards.text
    async with keyperson.kit.db.sessionmaker() as session:
        kept = await session.get(KeyWorker, first["id"])
        copies = (await session.scalars(select(KeyWorker).where(KeyWorker.name == "Copy"))).all()
    assert kept is not None and kept.max_caseload == 20 and kept.localities == ["south_west"]
    assert copies == []
    [me] = [w for w in (await listed(keyperson))["workers"] if w["id"] == first["id"]]
    assert me["absences"] == []


async def test_key_workers_and_keys_get_403(keyperson: ServiceHarness) -> None:
    one = await worker(keyperson.client)
    for headers in refused_everyone_but_coordinators():
        assert (await keyperson.client.get(ROSTER, headers=headers)).status_code == 403
        assert (await keyperson.client.patch(f"{ROSTER}/{one['id']}", json={"max_caseload": 1},
                                             headers=headers)).status_code == 403
        assert (await keyperson.client.post(ROSTER, json={}, headers=headers)).status_code == 403
