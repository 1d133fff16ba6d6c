"""Assignment through the internal API: continuity, ranking, idempotency, decline, close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.keyperson.factories import STAFF, Recorder, assign, outbox, request, worker
from tests.support.service import ServiceHarness
from tests.support.stack import eventually

NOW = datetime.now(UTC)


async def test_the_best_ranked_worker_gets_the_referral_and_a_handoff_without_person_details(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    c = keyperson.client
    await worker(c, teams=["ips_alliance"])                # locality only
    both = await worker(c)                                 # locality and team
    body = request(NOW)
    out = await assign(c, body)
    assert out["keyworker_id"] == both["id"] and out["via"] == "ranking"
    assert "serves locality south_west" in out["reasons"] and "in team hub" in out["reasons"]
    await sent.wait_for("/internal/handoffs")
    await sent.wait_for("/events")
    (handoff,) = sent.to("/internal/handoffs")
    assert handoff["handoff_key"] == f"{body['referral_id']}:1"
    assert handoff["phone"] == both["phone"] and handoff["reference"] == body["reference"]
    assert set(handoff) == {"handoff_key", "referral_id", "reference", "urgency", "respond_by",
                            "keyworker_id", "phone", "email"}
    (event,) = sent.to("/events")
    assert event["event"] == "assigned" and event["keyworker_id"] == both["id"]


async def test_a_repeated_delivery_gives_the_same_assignment_and_one_handoff(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c, max_caseload=5)
    body = request(NOW)
    first = await assign(c, body)
    again = await assign(c, body)                          # same idempotency key
    other_key = await assign(c, body, key="another-delivery")  # same referral, new key
    assert first == again and other_key["assignment_id"] == first["assignment_id"]
    assert len(await outbox(keyperson, "/internal/handoffs")) == 1
    got = await c.get(f"/api/v1/keyworkers/{w['id']}", headers=STAFF)
    assert got.json()["caseload"] == 1


async def test_continuity_brings_a_returning_person_back_to_their_key_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    key_worker = await worker(c, max_caseload=3)
    first = request(NOW)
    out = await assign(c, first)
    assert out["keyworker_id"] == key_worker["id"]
    resp = await c.post(f"/internal/assignments/{first['referral_id']}/accepted",
                        json={"keyworker_id": key_worker["id"], "handoff_id": "h1"})
    assert resp.json()["status"] == "accepted"
    await worker(c, max_caseload=50)                       # far more headroom, same area
    again = await assign(c, request(NOW, person_id=first["person_id"], locality="north"))
    assert again["keyworker_id"] == key_worker["id"] and again["via"] == "continuity"
    assert "continuity: the person's key worker" in again["reasons"]
    link = await c.get(f"/internal/people/{first['person_id']}/key-worker")
    assert link.json()["keyworker_id"] == key_worker["id"]


async def test_a_decline_offers_the_next_ranked_worker_with_a_new_handoff(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    c = keyperson.client
    first = await worker(c, max_caseload=30)
    second = await worker(c, max_caseload=10)
    body = request(NOW)
    out = await assign(c, body)
    assert out["keyworker_id"] == first["id"]
    resp = await c.post(f"/internal/assignments/{body['referral_id']}/declined",
                        json={"keyworker_id": first["id"], "reason": "declined"},
                        headers={"Idempotency-Key": "d1"})
    assert resp.json()["keyworker_id"] == second["id"]
    repeat = await c.post(f"/internal/assignments/{body['referral_id']}/declined",
                          json={"keyworker_id": first["id"], "reason": "declined"},
                          headers={"Idempotency-Key": "d1"})
    assert repeat.json() == resp.json()
    await sent.wait_for("/internal/handoffs", 2)
    await sent.wait_for("/events", 2)
    keys = [h["handoff_key"] for h in sent.to("/internal/handoffs")]
    assert keys == [f"{body['referral_id']}:1", f"{body['referral_id']}:2"]
    assert [e["event"] for e in sent.to("/events")] == ["assigned", "reassigned"]
    workers = {w["id"]: w for w in (await c.get("/api/v1/keyworkers", headers=STAFF)).json()}
    assert workers[first["id"]]["caseload"] == 0 and workers[second["id"]]["caseload"] == 1


async def test_a_stale_decline_from_a_worker_no_longer_holding_the_offer_changes_nothing(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    holder = await worker(c)
    body = request(NOW)
    await assign(c, body)
    resp = await c.post(f"/internal/assignments/{body['referral_id']}/declined",
                        json={"keyworker_id": "someone-else", "reason": "expired"})
    assert resp.json()["keyworker_id"] == holder["id"] and resp.json()["status"] == "offered"


async def test_nobody_fits_goes_to_the_duty_coordinator_and_alerts(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    c = keyperson.client
    coordinator = await worker(c, localities=["north"], teams=[], max_caseload=0)
    resp = await c.post("/api/v1/rota/shifts", headers=STAFF, json={
        "keyworker_id": coordinator["id"], "role": "duty_coordinator",
        "starts_at": (NOW - timedelta(hours=1)).isoformat(),
        "ends_at": (NOW + timedelta(hours=8)).isoformat()})
    assert resp.status_code == 201
    body = request(NOW, locality="south_east", team=None)
    out = await assign(c, body)
    assert out["keyworker_id"] == coordinator["id"] and out["via"] == "duty_coordinator"
    await sent.wait_for("/internal/alerts")
    (alert,) = sent.to("/internal/alerts")
    assert alert["kind"] == "nobody_fits" and alert["referral_id"] == body["referral_id"]
    await sent.wait_for("/internal/handoffs")
    # The coordinator holds the referral; they do not become the person's key person.
    await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                 json={"keyworker_id": coordinator["id"]})
    local = await worker(c, localities=["south_east"])
    later = await assign(c, request(NOW, person_id=body["person_id"], locality="south_east"))
    assert later["keyworker_id"] == local["id"] and later["via"] == "ranking"


async def test_with_nobody_on_duty_the_referral_is_kept_unassigned_and_alerted(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    body = request(NOW, locality="north", team=None)
    out = await assign(keyperson.client, body)
    assert out["keyworker_id"] is None and out["status"] == "unassigned"
    await sent.wait_for("/internal/alerts")
    got = await keyperson.client.get(f"/api/v1/assignments/{body['referral_id']}",
                                     headers=STAFF)
    assert got.status_code == 200 and got.json()["via"] == "unassigned"
    # A worker added to the roster has the waiting referral tried again: it gets a handoff.
    w = await worker(keyperson.client, localities=["north"])

    async def given() -> dict[str, Any] | None:
        held = await keyperson.client.get(f"/api/v1/assignments/{body['referral_id']}",
                                          headers=STAFF)
        out: dict[str, Any] = held.json()
        return out if out["keyworker_id"] is not None else None

    retried = await eventually(given, what="the waiting referral tried again")
    assert retried["keyworker_id"] == w["id"] and retried["attempt"] == 2
    await sent.wait_for("/internal/handoffs")
    # Staff may still run the rules again at once: the best candidate gets a new handoff.
    again = await keyperson.client.post(f"/api/v1/assignments/{body['referral_id']}/reassign",
                                        headers=STAFF)
    assert again.status_code == 200, again.text
    assert again.json()["keyworker_id"] == w["id"] and again.json()["attempt"] == 3
    await sent.wait_for("/internal/handoffs", 2)


async def test_closing_the_referral_frees_capacity_and_ends_the_key_person_link(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c)
    body = request(NOW)
    await assign(c, body)
    await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                 json={"keyworker_id": w["id"]})
    closed = await c.post(f"/internal/assignments/{body['referral_id']}/closed",
                          headers={"Idempotency-Key": "c1"})
    assert closed.json()["status"] == "closed"
    assert (await c.get(f"/api/v1/keyworkers/{w['id']}", headers=STAFF)).json()["caseload"] == 0
    gone = await c.get(f"/internal/people/{body['person_id']}/key-worker")
    assert gone.status_code == 404


async def test_a_referral_without_a_known_person_still_gets_a_key_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c, localities=["hub"], teams=[])
    body = request(NOW, person_id=None, locality=None, team=None, skills=["lang:PT-br"],
                   respond_by=(NOW + timedelta(hours=4)).replace(tzinfo=None).isoformat())
    out = await assign(c, body)
    assert out["keyworker_id"] == w["id"]
    accepted = await c.post(f"/internal/assignments/{body['referral_id']}/accepted",
                            json={"keyworker_id": w["id"], "handoff_id": "h"})
    assert accepted.json()["status"] == "accepted"


async def test_a_withdrawn_referral_frees_the_worker_as_referral_sends_it(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c)
    body = request(NOW)
    await assign(c, body)
    resp = await c.post(f"/internal/assignments/{body['referral_id']}/withdrawn",
                        json={"referral_id": body["referral_id"], "reference": "LW-TEST-0001",
                              "reason": "withdrawn"},
                        headers={"Idempotency-Key": f"withdrawn:{body['referral_id']}"})
    assert resp.status_code == 200 and resp.json()["status"] == "closed"
    assert (await c.get(f"/api/v1/keyworkers/{w['id']}", headers=STAFF)).json()["caseload"] == 0



async def test_a_referral_closed_before_its_assignment_request_arrives_gets_no_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c)
    body = request(NOW)
    early = await c.post(f"/internal/assignments/{body['referral_id']}/withdrawn",
                         json={"reference": body["reference"], "reason": "withdrawn"})
    assert early.status_code == 200 and early.json()["status"] == "closed"
    late = await assign(c, body)
    assert late["keyworker_id"] is None and late["status"] == "closed"
    assert (await c.get(f"/api/v1/keyworkers/{w['id']}", headers=STAFF)).json()["caseload"] == 0
