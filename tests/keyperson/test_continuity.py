"""A caseload counts people (issue 12, item 7): a person's new referral goes back to the worker
who already holds them, even at a full caseload, without taking a new place; one person's
open referrals stay with one worker, also once a rota exists."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx

from tests.keyperson.factories import STAFF, assign, request, shift, worker
from tests.support.service import ServiceHarness


async def caseload(c: httpx.AsyncClient, keyworker_id: str) -> int:
    got = await c.get(f"/api/v1/keyworkers/{keyworker_id}", headers=STAFF)
    assert got.status_code == 200, got.text
    return int(got.json()["caseload"])


async def accept(c: httpx.AsyncClient, body: dict[str, Any], keyworker_id: str) -> None:
    resp = await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                        json={"keyworker_id": keyworker_id})
    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text


async def close(c: httpx.AsyncClient, body: dict[str, Any]) -> None:
    resp = await c.post(f"/internal/assignments/{body['referral_id']}/closed", json={})
    assert resp.status_code == 200 and resp.json()["status"] == "closed", resp.text


async def test_a_returning_person_goes_back_to_their_worker_at_a_full_caseload(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    jo = str(uuid.uuid4())
    ada = await worker(c, max_caseload=1)
    first = request(now, person_id=jo)
    assert (await assign(c, first))["keyworker_id"] == ada["id"]
    await accept(c, first, ada["id"])
    stranger = await worker(c, max_caseload=10)  # room, and would win on headroom

    # Jo is referred again by another organisation: same person, a full caseload.
    again = request(now, person_id=jo, reference="LW-TEST-0002")
    second = await assign(c, again)
    assert (second["keyworker_id"], second["via"]) == (ada["id"], "continuity")
    assert any("no new place taken" in r for r in second["reasons"])
    assert await caseload(c, ada["id"]) == 1  # one person, one place
    assert await caseload(c, stranger["id"]) == 0

    # Jo holds the place until their last open referral with Ada closes.
    await close(c, first)
    assert await caseload(c, ada["id"]) == 1
    await close(c, again)
    assert await caseload(c, ada["id"]) == 0


async def test_one_persons_open_referrals_stay_with_one_worker_once_a_rota_exists(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    person = str(uuid.uuid4())
    workers = [await worker(c, max_caseload=3) for _ in range(3)]
    first = await assign(c, request(now, person_id=person))  # offered, not yet accepted
    holder = first["keyworker_id"]
    # The rota appears: the others are on shift, which urgent referrals otherwise prefer.
    for w in workers:
        if w["id"] != holder:
            await shift(c, w["id"], "key_worker", now - timedelta(hours=1),
                        now + timedelta(hours=8))
    later = []
    for n in range(5):
        body = request(now, person_id=person, urgency="urgent", reference=f"LW-TEST-01{n}",
                       respond_by=(now + timedelta(hours=24)).isoformat())
        later.append(await assign(c, body))
    assert {r["keyworker_id"] for r in later} == {holder}
    assert {r["via"] for r in later} == {"continuity"}
    assert await caseload(c, holder) == 1


async def test_a_decline_of_one_referral_keeps_the_person_on_the_caseload_of_the_other(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    person = str(uuid.uuid4())
    ada = await worker(c, max_caseload=1)
    first = request(now, person_id=person)
    await assign(c, first)
    second = request(now, person_id=person, reference="LW-TEST-0002")
    assert (await assign(c, second))["keyworker_id"] == ada["id"]
    other = await worker(c, max_caseload=5)
    resp = await c.post(f"/internal/assignments/{second['referral_id']}/declined",
                        json={"keyworker_id": ada["id"]})
    assert resp.json()["keyworker_id"] == other["id"]
    assert await caseload(c, ada["id"]) == 1  # still holds the first referral of the person
    assert await caseload(c, other["id"]) == 1


async def test_two_referrals_of_one_new_person_at_the_same_moment_go_to_one_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    for _ in range(4):
        await worker(c, max_caseload=5)
    for _ in range(3):
        person = str(uuid.uuid4())
        bodies = [request(now, person_id=person, reference=f"LW-TEST-02{n}") for n in range(4)]
        results = await asyncio.gather(*(assign(c, b) for b in bodies))
        chosen = {r["keyworker_id"] for r in results}
        assert len(chosen) == 1, results
        assert await caseload(c, chosen.pop()) == 1


async def test_an_absent_workers_two_referrals_of_one_person_go_to_one_cover(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    person = str(uuid.uuid4())
    ada = await worker(c, max_caseload=2)
    bodies = [request(now, person_id=person, reference=f"LW-TEST-03{n}") for n in range(2)]
    for body in bodies:
        await assign(c, body)
        await accept(c, body, ada["id"])
    covers = [await worker(c, max_caseload=5) for _ in range(2)]
    resp = await c.post(f"/api/v1/keyworkers/{ada['id']}/absences", headers=STAFF, json={
        "kind": "sickness", "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat()})
    assert resp.status_code == 201 and resp.json()["reassigned"] == 2, resp.text
    held = []
    for body in bodies:
        got = await c.get(f"/api/v1/assignments/{body['referral_id']}", headers=STAFF)
        held.append((got.json()["keyworker_id"], got.json()["cover_for"]))
    assert len({kid for kid, _ in held}) == 1 and {cf for _, cf in held} == {ada["id"]}
    assert sorted([await caseload(c, w["id"]) for w in covers]) == [0, 1]
    assert await caseload(c, ada["id"]) == 0
