"""Absence and deactivation move a worker's people to cover; continuity returns after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.keyperson.factories import STAFF, Recorder, assign, request, worker
from tests.support.service import ServiceHarness
from tests.support.stack import eventually


async def holding(harness: ServiceHarness, referral_id: str) -> dict[str, Any]:
    resp = await harness.client.get(f"/api/v1/assignments/{referral_id}", headers=STAFF)
    assert resp.status_code == 200
    out: dict[str, Any] = resp.json()
    return out


async def test_marking_a_worker_absent_hands_their_people_to_cover_with_new_handoffs(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    key_worker = await worker(c, max_caseload=40)
    cover = await worker(c, max_caseload=10)
    first, second = request(now), request(now)
    for body in (first, second):
        assert (await assign(c, body))["keyworker_id"] == key_worker["id"]
    await c.post(f"/internal/assignments/{first['referral_id']}/accepted",
                 json={"keyworker_id": key_worker["id"]})
    resp = await c.post(f"/api/v1/keyworkers/{key_worker['id']}/absences", headers=STAFF,
                        json={"kind": "sickness", "starts_at": now.isoformat(),
                              "ends_at": (now + timedelta(days=3)).isoformat()})
    assert resp.status_code == 201 and resp.json()["reassigned"] == 2
    for body in (first, second):
        a = await holding(keyperson, body["referral_id"])
        assert a["keyworker_id"] == cover["id"] and a["status"] == "offered"
        assert a["attempt"] == 2
    covered = await holding(keyperson, first["referral_id"])
    assert covered["cover_for"] == key_worker["id"]
    assert "continuity not possible: the key worker is absent" in covered["reasons"]
    await sent.wait_for("/internal/handoffs", 4)
    moved = [h for h in sent.to("/internal/handoffs") if h["keyworker_id"] == cover["id"]]
    assert sorted(h["handoff_key"] for h in moved) == sorted(
        f"{b['referral_id']}:2" for b in (first, second))
    roster = {w["id"]: w for w in (await c.get("/api/v1/keyworkers", headers=STAFF)).json()}
    assert roster[key_worker["id"]]["caseload"] == 0 and roster[cover["id"]]["caseload"] == 2

    # Cover accepts; the person's key person stays the same, so continuity returns after.
    await c.post(f"/internal/assignments/{first['referral_id']}/accepted",
                 json={"keyworker_id": cover["id"]})
    during = await c.get(f"/internal/people/{first['person_id']}/key-worker")
    assert during.json()["keyworker_id"] == cover["id"]
    keyperson.kit.clock.advance(3 * 86400 + 60)
    back = await assign(c, request(keyperson.kit.clock.now(), person_id=first["person_id"]))
    assert back["keyworker_id"] == key_worker["id"] and back["via"] == "continuity"


async def test_a_future_absence_moves_people_when_it_starts(keyperson: ServiceHarness) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    key_worker = await worker(c, max_caseload=40)
    cover = await worker(c, max_caseload=10)
    body = request(now)
    await assign(c, body)
    resp = await c.post(f"/api/v1/keyworkers/{key_worker['id']}/absences", headers=STAFF,
                        json={"starts_at": (now + timedelta(hours=2)).isoformat(),
                              "ends_at": (now + timedelta(days=1)).isoformat()})
    assert resp.json()["reassigned"] == 0
    assert (await holding(keyperson, body["referral_id"]))["keyworker_id"] == key_worker["id"]
    keyperson.kit.clock.advance(2 * 3600 + 1)

    async def with_cover() -> bool:
        return bool((await holding(keyperson, body["referral_id"]))["keyworker_id"]
                    == cover["id"])

    await eventually(with_cover, what="the absence timer handing the referral to cover")


async def test_the_person_may_keep_their_cover_as_key_person(keyperson: ServiceHarness) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    key_worker = await worker(c, max_caseload=40)
    cover = await worker(c, max_caseload=10)
    body = request(now)
    await assign(c, body)
    await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                 json={"keyworker_id": key_worker["id"]})
    await c.post(f"/api/v1/keyworkers/{key_worker['id']}/absences", headers=STAFF,
                 json={"starts_at": now.isoformat(),
                       "ends_at": (now + timedelta(hours=1)).isoformat()})
    await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                 json={"keyworker_id": cover["id"]})
    kept = await c.post(f"/api/v1/assignments/{body['referral_id']}/keep-cover", headers=STAFF)
    assert kept.status_code == 200 and kept.json()["cover_for"] is None
    keyperson.kit.clock.advance(7200)
    again = await assign(c, request(keyperson.kit.clock.now(), person_id=body["person_id"]))
    assert again["keyworker_id"] == cover["id"] and again["via"] == "continuity"


async def test_deactivating_a_worker_moves_their_people_and_keeps_the_record(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    leaving = await worker(c, max_caseload=40)
    staying = await worker(c, max_caseload=10)
    body = request(now)
    await assign(c, body)
    resp = await c.delete(f"/api/v1/keyworkers/{leaving['id']}", headers=STAFF)
    assert resp.status_code == 200 and resp.json()["active"] is False
    assert (await holding(keyperson, body["referral_id"]))["keyworker_id"] == staying["id"]
    got = await c.get(f"/api/v1/keyworkers/{leaving['id']}", headers=STAFF)
    assert got.status_code == 200 and got.json()["caseload"] == 0
    active = await c.get("/api/v1/keyworkers?active_only=true", headers=STAFF)
    assert [w["id"] for w in active.json()] == [staying["id"]]
