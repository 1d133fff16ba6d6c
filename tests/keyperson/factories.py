"""Small factories for keyperson tests: workers, shifts, assignment requests, the outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from services.common.http import ServiceResponse
from services.common.kit_models import OutboxMixin
from services.keyperson.models import OutboxMessage
from tests.support.service import ServiceHarness, key_headers

STAFF = key_headers("Living Well Hub", "staff")
_phones = iter(range(100000, 999999))


def mobile() -> str:
    """A fresh valid UK mobile number."""
    return f"+447400{next(_phones):06d}"


async def worker(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """Add a worker (south_west, team hub, caseload 20 unless told) and return it."""
    body: dict[str, Any] = {"name": "Worker", "phone": mobile(), "localities": ["south_west"],
                            "teams": ["hub"], "skills": [], "max_caseload": 20}
    body.update(fields)
    resp = await client.post("/api/v1/keyworkers", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


async def shift(client: httpx.AsyncClient, keyworker_id: str, role: str, starts: datetime,
                ends: datetime, **fields: Any) -> dict[str, Any]:
    body = {"keyworker_id": keyworker_id, "role": role, "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(), **fields}
    resp = await client.post("/api/v1/rota/shifts", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def request(now: datetime, **fields: Any) -> dict[str, Any]:
    """An assignment request as referral sends it (routine, south_west, team hub)."""
    body: dict[str, Any] = {
        "referral_id": str(uuid.uuid4()), "reference": "LW-TEST-0001",
        "person_id": str(uuid.uuid4()), "locality": "south_west", "team": "hub",
        "urgency": "routine", "respond_by": (now + timedelta(hours=72)).isoformat(),
        "skills": []}
    body.update(fields)
    return body


async def assign(client: httpx.AsyncClient, body: dict[str, Any],
                 key: str | None = None) -> dict[str, Any]:
    headers = {"Idempotency-Key": key or f"assign:{body['referral_id']}"}
    resp = await client.post("/internal/assignments", json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def outbox(harness: ServiceHarness, path_part: str = "") -> list[OutboxMessage]:
    """Outbox rows whose path contains `path_part`, oldest first."""
    async with harness.kit.db.sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [r for r in rows if path_part in r.path]


class Recorder:
    """Stands in for notify and referral on the outbox relay: records, answers 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    async def send(self, row: OutboxMixin) -> ServiceResponse:
        self.calls.append((row.target, row.path, row.payload))
        self.changed.set()
        return ServiceResponse(200, {"handoff_id": f"h-{len(self.calls)}"}, {})

    def to(self, path_part: str) -> list[dict[str, Any]]:
        return [p for _, path, p in self.calls if path_part in path]

    async def wait_for(self, path_part: str, count: int = 1, timeout: float = 15.0) -> None:
        """Wait until `count` deliveries to a path containing `path_part` were recorded
        (woken by each delivery; the timeout, as `eventually`'s, only ends a test that
        would wait for ever)."""
        async def _wait() -> None:
            while len(self.to(path_part)) < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(_wait(), timeout)
