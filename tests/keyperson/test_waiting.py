"""Referrals nobody could take are tried again (issue 12, item 10): when a shift starts, a worker
is added or an absence ends; and a `nobody_fits` alert says nothing once a key worker holds
the referral."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from services.keyperson.models import OutboxMessage
from tests.keyperson.factories import STAFF, Recorder, assign, outbox, request, shift, worker
from tests.support.service import ServiceHarness
from tests.support.stack import eventually


async def held(c: httpx.AsyncClient, body: dict[str, Any], via: str) -> dict[str, Any] | None:
    """The referral's assignment once it is held `via` that rule."""
    got = await c.get(f"/api/v1/assignments/{body['referral_id']}", headers=STAFF)
    found: dict[str, Any] = got.json()
    return found if found["via"] == via else None


async def unassigned(keyperson: ServiceHarness, **fields: Any) -> dict[str, Any]:
    """A referral made while nobody fits and nobody is on duty."""
    body = request(keyperson.kit.clock.now(), **fields)
    out = await assign(keyperson.client, body)
    assert (out["status"], out["via"]) == ("unassigned", "unassigned")
    return body


def alerts(rows: list[OutboxMessage], referral_id: str) -> list[str]:
    return [r.idempotency_key for r in rows if r.idempotency_key.startswith(
        f"alert:nobody_fits:{referral_id}:")]


async def test_a_referral_made_before_any_rota_goes_to_a_worker_added_later_without_stale_alert(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    body = await unassigned(keyperson)
    # Notify is unreachable here: the alert waits in the outbox.
    assert alerts(await outbox(keyperson, "/internal/alerts"), body["referral_id"])
    ada = await worker(c)
    got = await eventually(lambda: held(c, body, "ranking"), what="the retried assignment")
    assert (got["keyworker_id"], got["status"], got["attempt"]) == (ada["id"], "offered", 2)
    rows = await outbox(keyperson)
    assert alerts(rows, body["referral_id"]) == []  # withdrawn: it would be stale
    assert f"handoff:{body['referral_id']}:2" in {r.idempotency_key for r in rows}
    events = [r.payload for r in rows if r.path.endswith("/events")]
    assert events[-1]["event"] == "assigned" and events[-1]["keyworker_id"] == ada["id"]


async def test_a_shift_that_starts_later_brings_the_waiting_referral_to_the_coordinator(
    keyperson: ServiceHarness, sent: Recorder,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    coordinator = await worker(c, localities=["north"], teams=[], max_caseload=0)
    body = await unassigned(keyperson, locality="south_east", team=None)
    await sent.wait_for("/internal/alerts")
    later = await shift(c, coordinator["id"], "duty_coordinator", now + timedelta(hours=1),
                        now + timedelta(hours=9))
    [timer] = [r for r in await outbox(keyperson) if r.idempotency_key.startswith("shift:")]
    assert timer.idempotency_key == f"shift:{later['id']}:starts"
    assert timer.delivered_at is None  # waits for the shift's start:
    assert timer.next_attempt_at == datetime.fromisoformat(later["starts_at"])
    keyperson.kit.clock.advance(3601)
    got = await eventually(lambda: held(c, body, "duty_coordinator"), what="the holder")
    assert got["keyworker_id"] == coordinator["id"] and got["attempt"] == 2
    await sent.wait_for("/internal/handoffs")
    assert [h["keyworker_id"] for h in sent.to("/internal/handoffs")] == [coordinator["id"]]
    # The alert was raised once, at first: one idempotency key (the relay delivers at least
    # once, and a lease the test clock runs out may deliver the same row again).
    assert len({a["alert_key"] for a in sent.to("/internal/alerts")}) == 1

    # A worker who fits arrives: the coordinator lets go, and counts nobody.
    ada = await worker(c, localities=["south_east"])
    got = await eventually(lambda: held(c, body, "ranking"), what="the key worker")
    assert got["keyworker_id"] == ada["id"]
    roster = {w["id"]: w for w in (await c.get("/api/v1/keyworkers", headers=STAFF)).json()}
    assert roster[coordinator["id"]]["caseload"] == 0 and roster[ada["id"]]["caseload"] == 1


async def test_the_end_of_an_absence_brings_the_waiting_referral_to_the_worker(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    ada = await worker(c)
    resp = await c.post(f"/api/v1/keyworkers/{ada['id']}/absences", headers=STAFF, json={
        "kind": "leave", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert resp.status_code == 201
    body = await unassigned(keyperson)
    keyperson.kit.clock.advance(2 * 3600 + 1)
    got = await eventually(lambda: held(c, body, "ranking"), what="the retried assignment")
    assert got["keyworker_id"] == ada["id"]


async def test_a_cancelled_absence_brings_the_waiting_referral_to_the_worker_at_once(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    ada = await worker(c)
    resp = await c.post(f"/api/v1/keyworkers/{ada['id']}/absences", headers=STAFF, json={
        "kind": "sickness", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=5)).isoformat()})
    body = await unassigned(keyperson)
    gone = await c.delete(f"/api/v1/keyworkers/{ada['id']}/absences/{resp.json()['id']}",
                          headers=STAFF)
    assert gone.status_code == 204
    got = await eventually(lambda: held(c, body, "ranking"), what="the retried assignment")
    assert got["keyworker_id"] == ada["id"]


async def test_a_try_that_still_finds_nobody_changes_and_sends_nothing(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    body = await unassigned(keyperson, locality="south_east", team=None)
    before = [r.idempotency_key for r in await outbox(keyperson, "/internal/")]
    await worker(c, localities=["north"], teams=[])  # fits nothing of this referral
    # The retry ran once the job left the outbox; it moved nothing.
    async def retried() -> bool:
        rows = await outbox(keyperson)
        return all(r.delivered_at is not None for r in rows if r.target == "local")
    await eventually(retried, what="the retry to run")
    got = (await c.get(f"/api/v1/assignments/{body['referral_id']}", headers=STAFF)).json()
    assert (got["status"], got["attempt"]) == ("unassigned", 1)
    assert [r.idempotency_key for r in await outbox(keyperson, "/internal/")] == before


async def test_the_on_duty_lookup_of_an_alert_says_superseded_once_a_key_worker_holds_it(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    coordinator = await worker(c, localities=["north"], teams=[], max_caseload=0)
    await shift(c, coordinator["id"], "duty_coordinator", now - timedelta(hours=1),
                now + timedelta(hours=8))
    body = request(now, locality="south_east", team=None)
    assert (await assign(c, body))["via"] == "duty_coordinator"
    path = f"/internal/rota/on-duty?role=duty_coordinator&referral_id={body['referral_id']}"
    still = (await c.get(path)).json()
    assert still == {"numbers": [coordinator["phone"]], "superseded": False}
    await worker(c, localities=["south_east"])
    await eventually(lambda: held(c, body, "ranking"), what="the key worker")
    assert (await c.get(path)).json() == {"numbers": [], "superseded": True}
