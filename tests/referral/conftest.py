"""The referral service in-process, with its neighbours replaced by recording fakes."""

from __future__ import annotations

import gc
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from services.common.db import service_urls
from services.common.http import ServiceResponse
from services.common.kit_models import OutboxMixin
from services.common.settings import Settings
from services.referral import deps, webhooks
from services.referral.app import create_app
from tests.support.service import ServiceHarness, running_service
from tests.support.stack import eventually

SERVICE_DIR = Path(__file__).resolve().parents[2] / "services" / "referral"


@dataclass
class Neighbours:
    """Intake, keyperson and notify as the relay sees them: recorded calls, chosen answers."""

    calls: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)
    answers: dict[str, Callable[[dict[str, Any]], ServiceResponse]] = field(default_factory=dict)

    def sender(self, target: str) -> Callable[[OutboxMixin], Awaitable[ServiceResponse]]:
        async def send(row: OutboxMixin) -> ServiceResponse:
            self.calls.append((target, row.path, row.payload, row.idempotency_key))
            answer = self.answers.get(row.path)
            return answer(row.payload) if answer else ServiceResponse(200, {}, {})
        return send

    def to(self, path: str, referral_id: str | None = None) -> list[dict[str, Any]]:
        """Payloads sent to `path` (about one referral, when given)."""
        return [p for _, pth, p, _ in self.calls
                if pth == path and (referral_id is None or p.get("referral_id") == referral_id)]


@dataclass
class Referral:
    harness: ServiceHarness
    neighbours: Neighbours
    poster: webhooks.RecordingPoster
    rules_path: Path

    @property
    def client(self) -> Any:
        return self.harness.client

    async def until(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait for the relay to make `check()` truthy; fail the test if it never does."""

        async def checked() -> Any:
            return check()

        return await eventually(checked, timeout=timeout, interval=0.02,
                                what="the outbox relay to get there")

    async def advance(self, seconds: float) -> None:
        resp = await self.client.post("/internal/clock/advance", json={"seconds": seconds})
        assert resp.status_code == 200, resp.text


def copy_rules(into: Path) -> Path:
    """A private copy of the default rules and locality data, safe to edit in a test."""
    (into / "rules").mkdir(parents=True, exist_ok=True)
    (into / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(SERVICE_DIR / "rules" / "routing.yaml", into / "rules" / "routing.yaml")
    shutil.copy(SERVICE_DIR / "data" / "lambeth_localities.csv",
                into / "data" / "lambeth_localities.csv")
    return into / "rules" / "routing.yaml"


@pytest.fixture
async def referral(settings: Settings, tmp_path: Path) -> AsyncIterator[Referral]:
    rules_path = copy_rules(tmp_path)
    app_factory = partial(create_app, rules_path=rules_path)
    try:
        async with running_service("referral", app_factory, settings) as harness:
            neighbours = Neighbours()
            for target in ("intake", "keyperson", "notify"):
                harness.kit.relay.senders[target] = neighbours.sender(target)
            poster = webhooks.RecordingPoster()
            deps.of(harness.kit).poster = poster
            yield Referral(harness, neighbours, poster, rules_path)
    finally:
        # The kit cancels the outbox relay at shutdown, possibly mid-transaction; SQLAlchemy
        # then closes that aiosqlite connection in a background task (or leaves it to the
        # garbage collector), and until then it holds SQLite's write lock. Let that finish
        # here, so the next test's migration is not kept waiting on a stopped service's lock.
        await _until_sqlite_unlocked(settings)


async def _until_sqlite_unlocked(settings: Settings, timeout: float = 20.0) -> None:
    url = settings.database_url or ""
    if not url.startswith("sqlite"):
        return
    _, sync_url, _ = service_urls(settings, "referral")
    path = sync_url.removeprefix("sqlite:///")

    async def unlocked() -> bool:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            pass
        finally:
            conn.close()
        gc.collect()  # may finish off the stopped service's abandoned connection
        return False

    await eventually(unlocked, timeout=timeout, interval=0.05,
                     what="the stopped service to release SQLite's write lock")
