"""The outbox relay keeps deliveries in flight (a slow receiver never holds back due rows),
claims the most urgent first without starving the rest, and gives up on a row that keeps
failing the same way: a dead letter, an alert, listed and replayed by the CLI."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from livewell.cli import main
from services.common.clock import Clock
from services.common.db import Database
from services.common.http import ServiceClient, ServiceResponse
from services.common.inbox import remember
from services.common.kit import Kit
from services.common.kit_models import OutboxMixin
from services.common.migrations import upgrade
from services.common.outbox import MAX_BACKOFF, OutboxRelay, enqueue
from services.common.settings import Settings
from services.intake.app import create_app
from services.intake.models import InboxEntry, OutboxMessage
from tests.conftest import make_settings
from tests.support.databases import fresh_pg_database
from tests.support.service import running_service
from tests.support.stack import eventually


async def _enqueue(kit: Kit, target: str, keys: list[str], delay: float = 0.0) -> None:
    async with kit.db.sessionmaker() as session, session.begin():
        for key in keys:
            enqueue(session, OutboxMessage, key=key, target=target, path="/internal/x",
                    payload={"key": key}, now=kit.clock.now(), delay=delay)


async def test_a_slow_delivery_does_not_hold_back_rows_due_after_it(settings: Settings) -> None:
    async with running_service("intake", create_app, settings) as harness:
        relay = harness.kit.relay
        release = asyncio.Event()
        done: list[str] = []

        claimed = asyncio.Event()

        async def slow(row: OutboxMixin) -> ServiceResponse:
            claimed.set()
            await release.wait()
            done.append(row.payload["key"])
            return ServiceResponse(200, {}, {})

        async def fast(row: OutboxMixin) -> ServiceResponse:
            done.append(row.payload["key"])
            return ServiceResponse(200, {}, {})

        relay.senders["slow"], relay.senders["fast"] = slow, fast
        await _enqueue(harness.kit, "slow", ["stuck"])
        await asyncio.wait_for(claimed.wait(), 15)  # the slow row is claimed and in flight
        await _enqueue(harness.kit, "fast", [f"f{i}" for i in range(5)])
        await eventually(lambda: len(done) == 5, what="the due rows, past the slow one")
        assert sorted(done) == [f"f{i}" for i in range(5)], "due rows waited for a slow one"
        release.set()
        await eventually(lambda: "stuck" in done, what="the slow row, once released")
        assert done.count("stuck") == 1


async def test_no_more_than_the_concurrency_is_in_flight(settings: Settings) -> None:
    async with running_service("intake", create_app, settings) as harness:
        relay = harness.kit.relay
        relay.concurrency = 3
        in_flight, peak, delivered = 0, 0, 0

        async def sender(row: OutboxMixin) -> ServiceResponse:
            nonlocal in_flight, peak, delivered
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1
            delivered += 1
            return ServiceResponse(200, {}, {})

        relay.senders["busy"] = sender
        await _enqueue(harness.kit, "busy", [f"b{i}" for i in range(20)])
        await eventually(lambda: delivered == 20, what="the 20 rows delivered")
        assert 1 < peak <= 3


async def test_a_timer_waits_for_its_time(settings: Settings) -> None:
    async with running_service("intake", create_app, settings) as harness:
        relay, kit = harness.kit.relay, harness.kit
        seen: list[str] = []

        async def sender(row: OutboxMixin) -> ServiceResponse:
            seen.append(row.payload["key"])
            return ServiceResponse(200, {}, {})

        relay.senders["later"] = sender
        await _enqueue(kit, "later", ["t"], delay=300)
        # A claim started after the commit has ended once the next one starts: by then the
        # relay has looked at the row, and left it (the relay polls every 0.05 s here).
        claims = relay._claims
        await eventually(lambda: relay._claims >= claims + 2, what="the relay to claim twice")
        assert seen == []
        kit.clock.advance(360)
        await eventually(lambda: seen, what="the timer, once due")
        assert seen == ["t"]


async def test_delivered_rows_and_inbox_keys_past_retention_are_purged_dead_letters_kept(
    settings: Settings,
) -> None:
    async with running_service("intake", create_app, settings) as harness:
        kit, relay = harness.kit, harness.kit.relay

        async def ok(row: OutboxMixin) -> ServiceResponse:
            return ServiceResponse(200, {}, {})

        async def refused(row: OutboxMixin) -> ServiceResponse:
            return ServiceResponse(400, {}, {})

        relay.senders["ok"], relay.senders["refused"] = ok, refused
        tag = uuid.uuid4().hex[:8]  # the database is shared with other tests
        old, dead, fresh = [f"{tag}-old{i}" for i in range(5)], f"{tag}-dead", f"{tag}-fresh"
        await _enqueue(kit, "ok", old)
        await _enqueue(kit, "refused", [dead])
        async with kit.db.sessionmaker() as session, session.begin():
            remember(session, InboxEntry, f"{tag}-inbox", None, kit.clock.now())

        async def outbox_keys() -> dict[str, bool]:
            async with kit.db.sessionmaker() as session:
                rows = await session.execute(
                    select(OutboxMessage.idempotency_key, OutboxMessage.delivered_at)
                    .where(OutboxMessage.idempotency_key.like(f"{tag}-%")))
                return {key: at is not None for key, at in rows}

        async def inbox_keys() -> list[str]:
            async with kit.db.sessionmaker() as session:
                return list(await session.scalars(select(InboxEntry.idempotency_key).where(
                    InboxEntry.idempotency_key.like(f"{tag}-%"))))

        async def old_ones_delivered() -> bool:
            return sum((await outbox_keys()).values()) == 5

        await eventually(old_ones_delivered, what="the five old rows delivered")
        await relay.purge(InboxEntry, timedelta(days=30))
        assert len(await outbox_keys()) == 6 and await inbox_keys()  # nothing was old yet
        await _enqueue(kit, "later", [fresh], delay=40 * 86400)  # not delivered: never purged
        kit.clock.advance(31 * 86400)  # wakes the hourly purge as well
        await relay.purge(InboxEntry, timedelta(days=30), chunk=2)
        assert set(await outbox_keys()) == {dead, fresh}  # the dead letter stays
        assert await inbox_keys() == []


# Claim order and dead letters: a relay of its own on a database of its own, driven step by
# step (claim, deliver) on a clock of its own, so nothing else claims these rows and no timing
# is involved.

@pytest.fixture
def own_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield make_settings(f"sqlite:///{tmp_path / 'own.db'}", tmp_path)
        return
    with fresh_pg_database() as url:
        yield make_settings(url, tmp_path)


@pytest.fixture
async def own_relay(own_settings: Settings) -> AsyncIterator[OutboxRelay]:
    upgrade(own_settings, "intake")
    db = Database(own_settings, "intake")
    client = ServiceClient(own_settings)
    relay = OutboxRelay(db, OutboxMessage, client, Clock(), max_failures=3)
    try:
        yield relay
    finally:
        await db.dispose()


async def _add(relay: OutboxRelay, key: str, urgency: str | None, *, target: str = "t",
               age: float = 0.0) -> None:
    """A row due `age` seconds ago on the relay's clock."""
    payload = {"key": key} if urgency is None else {"key": key, "urgency": urgency}
    async with relay.db.sessionmaker() as session, session.begin():
        enqueue(session, OutboxMessage, key=key, target=target, path="/internal/x",
                payload=payload, now=relay.clock.now() - timedelta(seconds=age))


async def _rows(relay: OutboxRelay) -> dict[str, OutboxMessage]:
    async with relay.db.sessionmaker() as session:
        return {r.idempotency_key: r for r in await session.scalars(select(OutboxMessage))}


async def test_an_emergency_made_mid_surge_is_claimed_before_the_routine_rows_ahead_of_it(
    own_relay: OutboxRelay,
) -> None:
    for i in range(30):
        await _add(own_relay, f"routine{i}", "routine", age=100 - i)
    await _add(own_relay, "urgent", "urgent", age=2)
    await _add(own_relay, "emergency", "emergency", age=1)
    await _add(own_relay, "no-urgency", None, age=1)
    rows = await _rows(own_relay)
    assert (rows["emergency"].priority, rows["urgent"].priority, rows["routine0"].priority,
            rows["no-urgency"].priority) == (0, 2, 3, 2)
    claimed = [r.idempotency_key for r in await own_relay._claim(8)]
    # Most urgent first, then by due time; a quarter of the claim for the longest waiting.
    assert claimed == ["emergency", "urgent", "no-urgency", "routine0", "routine1", "routine2",
                       "routine3", "routine4"]


async def test_a_stream_of_emergencies_never_starves_the_oldest_routine_row(
    own_relay: OutboxRelay,
) -> None:
    await _add(own_relay, "old-routine", "routine", age=600)
    for i in range(40):
        await _add(own_relay, f"emergency{i}", "emergency", age=1)
    claimed = [r.idempotency_key for r in await own_relay._claim(4)]
    assert claimed == ["emergency0", "emergency1", "emergency2", "old-routine"]
    # Claims of a single row give every fourth one to the longest waiting.
    await _add(own_relay, "old-routine-2", "routine", age=600)
    singles = [(await own_relay._claim(1))[0].idempotency_key for _ in range(4)]
    assert singles.count("old-routine-2") == 1


async def _attempt(relay: OutboxRelay, answer: Callable[[], ServiceResponse]) -> None:
    """Make every waiting row due, claim it and deliver it once."""
    async def sender(row: OutboxMixin) -> ServiceResponse:
        return answer()

    relay.senders["t"] = relay.senders["notify"] = sender
    relay.clock.advance(MAX_BACKOFF * 2)
    for row in await relay._claim(10):
        await relay._deliver_guarded(row)


async def test_a_row_failing_the_same_way_n_times_is_a_dead_letter_and_alerts_the_coordinator(
    own_relay: OutboxRelay,
) -> None:
    await _add(own_relay, "doomed", "very_urgent")
    async with own_relay.db.sessionmaker() as session, session.begin():
        row = (await _rows(own_relay))["doomed"]
        row.payload = {**row.payload, "reference": "LW-7K3M-Q9XA", "referral_id": "r-1",
                       "subject": {"given_name": "Jo"}}
        session.add(row)
    for _ in range(2):
        await _attempt(own_relay, lambda: ServiceResponse(500, {}, {}))
    rows = await _rows(own_relay)
    assert rows["doomed"].dead_at is None and rows["doomed"].failures == 2
    await _attempt(own_relay, lambda: ServiceResponse(500, {}, {}))
    rows = await _rows(own_relay)
    assert rows["doomed"].dead_at is not None and rows["doomed"].last_error == "http 500"
    alert = rows[f"dead_letter:intake:{rows['doomed'].id}"]
    assert (alert.target, alert.path, alert.priority) == ("notify", "/internal/alerts", 0)
    assert alert.payload == {"alert_key": f"dead_letter:intake:{rows['doomed'].id}",
                             "kind": "dead_letter", "reference": "LW-7K3M-Q9XA",
                             "referral_id": "r-1", "urgency": "very_urgent"}  # nothing else
    # The alert itself failing for good is logged, never alerted again (no loop).
    await _attempt(own_relay, lambda: ServiceResponse(400, {}, {}))
    rows = await _rows(own_relay)
    assert rows[alert.idempotency_key].dead_at is not None
    assert [k for k in rows if k.startswith("dead_letter:")] == [alert.idempotency_key]


async def test_a_handler_failing_for_ever_becomes_a_dead_letter(own_relay: OutboxRelay) -> None:
    async def broken(session: Any, payload: dict[str, Any]) -> None:
        raise ValueError("the same bug every time")

    own_relay.local_handlers["broken"] = broken
    async with own_relay.db.sessionmaker() as session, session.begin():
        enqueue(session, OutboxMessage, key="timer", target="local", path="broken",
                payload={}, now=own_relay.clock.now())
    for _ in range(3):
        await _attempt(own_relay, lambda: ServiceResponse(200, {}, {}))
    timer = (await _rows(own_relay))["timer"]
    assert timer.dead_at is not None and timer.last_error == "ValueError"


async def test_an_unavailable_receiver_or_changing_failures_never_make_a_dead_letter(
    own_relay: OutboxRelay,
) -> None:
    await _add(own_relay, "patient", "routine")
    answers = [503, 429, 503, 500, 502, 500, 502, 503, 503, 503]
    for status in answers:
        await _attempt(own_relay, lambda s=status: ServiceResponse(s, {}, {}))  # type: ignore[misc]
    row = (await _rows(own_relay))["patient"]
    assert row.dead_at is None and row.attempts == len(answers)
    await _attempt(own_relay, lambda: ServiceResponse(200, {}, {}))
    assert (await _rows(own_relay))["patient"].delivered_at is not None


async def test_dead_letters_are_listed_and_replayed_once(
    own_relay: OutboxRelay, own_settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _add(own_relay, "lost", "urgent")
    for _ in range(3):
        await _attempt(own_relay, lambda: ServiceResponse(500, {}, {}))
    lost_id = (await _rows(own_relay))["lost"].id
    monkeypatch.chdir(own_settings.var_dir)  # no .env of the working tree
    monkeypatch.setenv("DATABASE_URL", str(own_settings.database_url))
    monkeypatch.setenv("LIVEWELL_VAR_DIR", str(own_settings.var_dir))
    monkeypatch.setenv("LIVEWELL_INTERNAL_TOKEN", "test-internal-token")

    async def cli(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await cli("deadletters", "list", "--service", "intake", "--json")
    listed = json.loads(out)
    assert code == 0 and [d["id"] for d in listed] == [f"intake:{lost_id}"]
    assert listed[0]["last_error"] == "http 500" and "payload" not in listed[0]
    code, out, _ = await cli("deadletters", "list", "--service", "intake")
    assert code == 0 and f"intake:{lost_id}" in out and "http 500" in out
    code, _, _ = await cli("deadletters", "replay", f"intake:{lost_id}")
    assert code == 0
    code, _, err = await cli("deadletters", "replay", f"intake:{lost_id}")
    assert code == 1 and "No dead letter" in err  # once: it is waiting to be sent again
    row = (await _rows(own_relay))["lost"]
    assert row.dead_at is None and row.failures == 0
    await _attempt(own_relay, lambda: ServiceResponse(200, {}, {}))
    assert (await _rows(own_relay))["lost"].delivered_at is not None
    code, _, err = await cli("deadletters", "replay", "intake-7")
    assert code == 2 and "service:id" in err
