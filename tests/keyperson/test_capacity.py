"""Capacity under concurrency: simultaneous assignments never push a worker past the maximum."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.keyperson.factories import STAFF, assign, request, worker
from tests.support.service import ServiceHarness

NOW = datetime.now(UTC)


async def test_twelve_simultaneous_assignments_at_a_worker_with_room_for_three_give_three(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    only = await worker(c, max_caseload=3, localities=["north"], teams=[])
    bodies = [request(NOW, locality="north", team=None) for _ in range(12)]
    results = await asyncio.gather(*(assign(c, b) for b in bodies))
    to_worker = [r for r in results if r["keyworker_id"] == only["id"]]
    assert len(to_worker) == 3
    assert all(r["status"] == "unassigned" for r in results if r not in to_worker)
    got = await c.get(f"/api/v1/keyworkers/{only['id']}", headers=STAFF)
    assert got.json()["caseload"] == 3


async def test_simultaneous_assignments_spread_over_workers_exactly_to_their_maximums(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    workers = [await worker(c, max_caseload=m, localities=["south_east"], teams=[])
               for m in (1, 2, 4)]
    bodies = [request(NOW, locality="south_east", team=None) for _ in range(10)]
    results = await asyncio.gather(*(assign(c, b) for b in bodies))
    assert sum(1 for r in results if r["keyworker_id"] is not None) == 7
    roster = {w["id"]: w for w in (await c.get("/api/v1/keyworkers", headers=STAFF)).json()}
    for w in workers:
        assert roster[w["id"]]["caseload"] == w["max_caseload"]
        held = sum(1 for r in results if r["keyworker_id"] == w["id"])
        assert held == w["max_caseload"]
