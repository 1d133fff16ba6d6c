"""The dispatcher sends the most urgent messages first, and still sends the oldest routine one
while emergencies keep coming (claims checked on a database of their own, no timing); a
queued message wakes the queues once its transaction commits, never when it rolls back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.common.clock import Clock
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.settings import Settings
from services.notify import repository
from services.notify.messages import queue_message
from tests.conftest import make_settings
from tests.support.databases import fresh_pg_database


@pytest.fixture
def own_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield make_settings(f"sqlite:///{tmp_path / 'own.db'}", tmp_path)
        return
    with fresh_pg_database() as url:
        yield make_settings(url, tmp_path)


@pytest.fixture
async def db(own_settings: Settings) -> AsyncIterator[Database]:
    upgrade(own_settings, "notify")
    database = Database(own_settings, "notify")
    try:
        yield database
    finally:
        await database.dispose()


async def _queue(db: Database, key: str, urgency: str | None, age: float) -> None:
    now = Clock().now() - timedelta(seconds=age)
    async with db.sessionmaker() as session, session.begin():
        await queue_message(session, key=key, kind="handoff", channel="sms", to="+447911123456",
                            body="Living Well Line", now=now, urgency=urgency)


async def _claim(db: Database, limit: int, oldest: int) -> list[str]:
    async with db.sessionmaker() as session, session.begin():
        claimed = await repository.claim_due(session, Clock().now(), limit, oldest)
        for msg in claimed:  # as the dispatcher does: claimed rows are not due again
            msg.status, msg.locked_until = repository.SENDING, Clock().now() + timedelta(hours=1)
        return [m.dedupe_key for m in claimed]


async def test_an_emergency_handoff_overtakes_the_routine_queue(db: Database) -> None:
    for i in range(20):
        await _queue(db, f"routine{i}", "routine", age=100 - i)
    await _queue(db, "very-urgent", "very_urgent", age=2)
    await _queue(db, "emergency", "emergency", age=1)
    assert await _claim(db, 4, oldest=1) == ["emergency", "very-urgent", "routine0", "routine1"]


async def test_a_run_of_emergencies_leaves_the_oldest_share_to_routine_work(db: Database) -> None:
    await _queue(db, "old-routine", "routine", age=900)
    for i in range(12):
        await _queue(db, f"emergency{i}", "emergency", age=10 - i / 100)
    assert await _claim(db, 4, oldest=1) == ["emergency0", "emergency1", "emergency2",
                                             "old-routine"]
    assert await _claim(db, 4, oldest=0) == ["emergency3", "emergency4", "emergency5",
                                             "emergency6"]


async def test_a_queued_message_wakes_the_queues_after_its_commit_only(db: Database) -> None:
    woken: list[int] = []
    db.on_outbox_commit(lambda: woken.append(1))
    async with db.sessionmaker() as session:
        await queue_message(session, key="rolled-back", kind="handoff", channel="sms",
                            to="+447911123456", body="Living Well Line", now=Clock().now(),
                            urgency="routine")
        assert woken == []  # not before the commit
        await session.rollback()
    assert woken == []
    await _queue(db, "committed", "routine", age=0)
    assert woken == [1]
