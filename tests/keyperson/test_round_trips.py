"""What one assignment sends to the database, and the key worker read again after a race."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson import assignment
from services.keyperson import repository as repo
from services.keyperson.ranking import Need
from services.keyperson.schemas import AssignmentRequest
from tests.keyperson.factories import assign, request, worker
from tests.support.service import ServiceHarness


@contextmanager
def statements(harness: ServiceHarness, session: AsyncSession) -> Iterator[list[str]]:
    """The statements the session's connection sends while the block runs (the outbox
    relay shares the engine, so its statements are left out)."""
    sent: list[str] = []
    own = session.sync_session.connection()

    def record(conn: object, _cursor: object, statement: str, *_: object) -> None:
        if conn is own:
            sent.append(statement.split(None, 1)[0].upper())

    engine = harness.kit.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_an_assignment_reads_the_context_once_then_one_page_or_nothing_more(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    for _ in range(3):
        await worker(c)
    first = request(now)
    held = await assign(c, first)
    accepted = await c.post(f"/internal/assignments/{first['referral_id']}/accepted",
                            json={"keyworker_id": held["keyworker_id"], "handoff_id": "h1"})
    assert accepted.json()["status"] == "accepted"  # now the person's key worker
    db = keyperson.kit.db
    woken: list[int] = []
    db.on_outbox_commit(lambda: woken.append(1))
    # The new assignment and its outbox rows: one statement on PostgreSQL, two on SQLite
    # (no INSERT inside WITH there); the commit then flushes nothing.
    writes = ["WITH"] if db.dialect == "postgresql" else ["INSERT", "INSERT"]
    # Without a team there is one tier of candidates, so one page query (with a team and
    # fewer than a page serving both locality and team, the next tier is read too).
    # A returning person's key worker holds their open referral already: no place is taken,
    # so continuity costs the context read alone (after, on PostgreSQL, the person's lock).
    lock = ["SELECT"] if db.dialect == "postgresql" else []
    for person, expected in ((None, [*lock, "SELECT", "SELECT", "UPDATE", *writes]),  # ranking
                             (first["person_id"], [*lock, "SELECT", *writes])):   # continuity
        body = request(now, team=None, urgency="urgent",
                       respond_by=(now + timedelta(hours=4)).isoformat())
        if person is not None:
            body["person_id"] = person
        req = AssignmentRequest.model_validate(body)
        async with db.sessionmaker() as session:
            await session.connection()  # checked out and begun before counting
            with statements(keyperson, session) as sent:
                a = await assignment.assign(session, req, now)
            with statements(keyperson, session) as at_commit:
                await session.commit()
        assert sent == expected, (a.via, sent)
        assert at_commit == [], at_commit  # nothing left for the unit of work
        assert woken, "the relay is woken after the commit that wrote to the outbox"
        woken.clear()
        assert a.via == ("continuity" if person else "ranking")


async def test_a_key_worker_who_filled_up_meanwhile_is_read_again_and_explained(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    kw = await worker(c, max_caseload=1)
    other = await worker(c)
    respond_by = now + timedelta(hours=72)
    async with keyperson.kit.db.sessionmaker() as session:
        read = await repo.key_worker_now(session, kw["id"], now, None)
        assert read is not None and read.worker.caseload == 0
        assert await repo.take_capacity(session, kw["id"], now)   # someone else took the place
        need = Need("south_west", "hub", (), "routine", kw["id"])
        choice = await assignment.choose(session, need, now, respond_by, known=[read])
        await session.rollback()
    assert choice.worker is not None and choice.worker.id == other["id"]
    assert choice.via == "ranking"
    assert choice.ranking.excluded[kw["id"]] == "at maximum caseload"
    assert choice.reasons[0] == "continuity not possible: the key worker is at maximum caseload"
    assert choice.key_worker == dataclasses.replace(read.worker, caseload=1,
                                                    last_assigned_at=now)
