"""Keyperson's board: who is on duty and the rota's gaps; a referral's ranking with reasons,
giving it to a chosen key worker or offering it to the next; coordinators and admins only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.keyperson.models import Assignment, KeyPersonLink, KeyWorker
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.keyperson.factories import STAFF, Recorder, assign, request, shift, worker
from tests.support.service import ServiceHarness

BOARD = "/api/v1/desk/board"


async def test_on_duty_now_and_a_gap_when_a_shift_is_removed(keyperson: ServiceHarness) -> None:
    now = keyperson.kit.clock.now()
    coordinator = await worker(keyperson.client, name="Dana Duty")
    week = now + timedelta(days=8)
    shifts = []
    start = now - timedelta(hours=1)
    while start < week:  # borough-wide duty coordinator cover for the whole week
        end = min(start + timedelta(hours=24), week)
        shifts.append(await shift(keyperson.client, coordinator["id"], "duty_coordinator",
                                  start, end))
        start = end
    board = await keyperson.client.get(BOARD, headers=signed_in("coordinator"))
    assert board.status_code == 200, board.text
    body = board.json()
    assert [(d["name"], d["role"]) for d in body["on_duty"]] == [("Dana Duty",
                                                                  "duty_coordinator")]
    assert not [g for g in body["gaps"] if g["role"] == "duty_coordinator"]
    assert body["workers"][coordinator["id"]] == "Dana Duty"
    resp = await keyperson.client.delete(f"/api/v1/rota/shifts/{shifts[2]['id']}",
                                         headers=STAFF)
    assert resp.status_code == 204
    gaps = (await keyperson.client.get(BOARD, headers=signed_in("admin"))).json()["gaps"]
    mine = [g for g in gaps if g["role"] == "duty_coordinator"]
    assert {g["locality"] for g in mine} == {"north", "south_west", "south_east"}
    assert all(g["hours"] == 24.0 for g in mine)


async def test_a_coordinator_gives_a_referral_to_a_chosen_worker(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    now = keyperson.kit.clock.now()
    first = await worker(keyperson.client, name="Ash First")
    second = await worker(keyperson.client, name="Bo Second")
    body = request(now)
    given = await assign(keyperson.client, body)
    path = f"{BOARD}/referrals/{body['referral_id']}"
    ranked = await keyperson.client.get(f"{path}/candidates", headers=signed_in("coordinator"))
    assert ranked.status_code == 200, ranked.text
    names = {c["name"] for c in ranked.json()["candidates"]}
    assert {"Ash First", "Bo Second"} <= names
    assert all(c["reasons"] for c in ranked.json()["candidates"])
    other = second["id"] if given["keyworker_id"] == first["id"] else first["id"]
    moved = await keyperson.client.post(f"{path}/assign", json={"keyworker_id": other},
                                        headers=signed_in("coordinator", COORDINATOR))
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"keyworker_id": other, "status": "offered", "attempt": 2}
    await sent.wait_for("/internal/handoffs", 2)
    assert sent.to("/internal/handoffs")[-1]["keyworker_id"] == other
    async with keyperson.kit.db.sessionmaker() as session:
        a = await session.scalar(select(Assignment)
                                 .where(Assignment.referral_id == body["referral_id"]))
        workers = {w.id: w for w in await session.scalars(select(KeyWorker))}
    assert a is not None and a.via == "coordinator"
    assert workers[other].caseload == 1 and workers[given["keyworker_id"]].caseload == 0


async def test_a_bad_choice_is_a_422_naming_the_field_and_changes_nothing(
    keyperson: ServiceHarness,
) -> None:
    now = keyperson.kit.clock.now()
    await worker(keyperson.client)
    body = request(now)
    given = await assign(keyperson.client, body)
    path = f"{BOARD}/referrals/{body['referral_id']}/assign"
    for choice in ({"keyworker_id": "nobody"}, {"keyworker_id": ""}, {}):
        resp = await keyperson.client.post(path, json=choice, headers=signed_in("admin"))
        assert resp.status_code == 422, resp.text
        assert "keyworker_id" in resp.text
    async with keyperson.kit.db.sessionmaker() as session:
        a = await session.scalar(select(Assignment)
                                 .where(Assignment.referral_id == body["referral_id"]))
    assert a is not None and a.keyworker_id == given["keyworker_id"] and a.attempt == 1


async def test_key_workers_and_keys_get_403(keyperson: ServiceHarness) -> None:
    now = keyperson.kit.clock.now()
    chosen = await worker(keyperson.client)
    body = request(now)
    await assign(keyperson.client, body)
    path = f"{BOARD}/referrals/{body['referral_id']}"
    for headers in refused_everyone_but_coordinators():
        assert (await keyperson.client.get(BOARD, headers=headers)).status_code == 403
        assert (await keyperson.client.get(f"{path}/candidates",
                                           headers=headers)).status_code == 403
        resp = await keyperson.client.post(f"{path}/assign",
                                           json={"keyworker_id": chosen["id"]}, headers=headers)
        assert resp.status_code == 403


async def test_a_worker_chosen_by_a_coordinator_becomes_the_key_person_on_accepting(
    keyperson: ServiceHarness,
) -> None:
    now = keyperson.kit.clock.now()
    first = await worker(keyperson.client, name="Ash First")
    second = await worker(keyperson.client, name="Bo Second")
    body = request(now)
    given = await assign(keyperson.client, body)
    other = second["id"] if given["keyworker_id"] == first["id"] else first["id"]
    path = f"{BOARD}/referrals/{body['referral_id']}/assign"
    moved = await keyperson.client.post(path, json={"keyworker_id": other},
                                        headers=signed_in("coordinator", COORDINATOR))
    assert moved.status_code == 200, moved.text
    resp = await keyperson.client.post(f"/internal/assignments/{body['referral_id']}/accepted",
                                       json={"keyworker_id": other})
    assert resp.status_code == 200 and resp.json()["status"] == "accepted", resp.text
    async with keyperson.kit.db.sessionmaker() as session:
        link = await session.scalar(select(KeyPersonLink)
                                    .where(KeyPersonLink.person_id == body["person_id"]))
    assert link is not None and (link.keyworker_id, link.ended_at) == (other, None)
    # The person's next referral goes back to them, as with a worker the rules chose.
    again = await assign(keyperson.client, request(now, person_id=body["person_id"],
                                                   reference="LW-TEST-0002"))
    assert (again["keyworker_id"], again["via"]) == (other, "continuity")
