"""The outbox relay keeps deliveries in flight: a slow receiver never holds back due rows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from services.common.http import ServiceResponse
from services.common.inbox import remember
from services.common.kit import Kit
from services.common.kit_models import OutboxMixin
from services.common.outbox import enqueue
from services.common.settings import Settings
from services.intake.app import create_app
from services.intake.models import InboxEntry, OutboxMessage
from tests.support.service import running_service


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

        async def slow(row: OutboxMixin) -> ServiceResponse:
            await release.wait()
            done.append(row.payload["key"])
            return ServiceResponse(200, {}, {})

        async def fast(row: OutboxMixin) -> ServiceResponse:
            done.append(row.payload["key"])
            return ServiceResponse(200, {}, {})

        relay.senders["slow"], relay.senders["fast"] = slow, fast
        await _enqueue(harness.kit, "slow", ["stuck"])
        await asyncio.sleep(0.3)  # the slow row is claimed and in flight
        await _enqueue(harness.kit, "fast", [f"f{i}" for i in range(5)])
        for _ in range(100):
            if len(done) == 5:
                break
            await asyncio.sleep(0.05)
        assert sorted(done) == [f"f{i}" for i in range(5)], "due rows waited for a slow one"
        release.set()
        for _ in range(100):
            if "stuck" in done:
                break
            await asyncio.sleep(0.05)
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
        for _ in range(200):
            if delivered == 20:
                break
            await asyncio.sleep(0.05)
        assert delivered == 20
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
        await asyncio.sleep(0.3)
        assert seen == []
        kit.clock.advance(360)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
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

        for _ in range(100):
            if sum((await outbox_keys()).values()) == 5:
                break
            await asyncio.sleep(0.05)
        await relay.purge(InboxEntry, timedelta(days=30))
        assert len(await outbox_keys()) == 6 and await inbox_keys()  # nothing was old yet
        await _enqueue(kit, "later", [fresh], delay=40 * 86400)  # not delivered: never purged
        kit.clock.advance(31 * 86400)  # wakes the hourly purge as well
        await relay.purge(InboxEntry, timedelta(days=30), chunk=2)
        assert set(await outbox_keys()) == {dead, fresh}  # the dead letter stays
        assert await inbox_keys() == []
