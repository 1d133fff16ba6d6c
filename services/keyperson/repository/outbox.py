"""Keyperson's outbox rows written on the table itself: an assignment's announcements (with
a new assignment, on PostgreSQL, in the same statement) and stale alerts withdrawn.

An exception, on purpose, to "outbox rows go through `services.common.outbox.enqueue`".
`enqueue()` adds an ORM object that the unit of work flushes at commit; on an assignment's
hot path that flush cost about as much CPU as all the assignment's reads, and a round trip
more (`bench/assignment.py`, `statements_mean`; `tests/keyperson/test_round_trips.py` pins
the statements). So the rows that announce an assignment — a handoff to notify, an
`assigned`/`reassigned` event to referral, a `nobody_fits` alert to notify — are written here
by one INSERT with exactly the columns `enqueue()` writes for a message due now with no
reply handler (`services.keyperson.outbound` builds them; the other columns take their
server defaults), and the relay is woken after the commit as after `enqueue()`. Timers and
every other message of the service go through `enqueue()`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, delete, insert, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import wake_after_commit
from services.keyperson.models import Assignment, OutboxMessage
from services.keyperson.repository.assignments import (
    assignment_insert,
    assignment_values,
    insert_assignment,
)

OutboxRow = dict[str, Any]
# The columns `enqueue()` sets for a message due now with no reply handler.
COLUMNS = ("idempotency_key", "target", "path", "payload", "reply_handler", "attempts",
           "created_at", "next_attempt_at", "priority")
_outbox = cast(Table, OutboxMessage.__table__)
_INSERT = insert(_outbox)


async def write_announcements(session: AsyncSession, rows: Sequence[OutboxRow],
                              new: Assignment | None = None) -> None:
    """Add the rows to the outbox in the caller's transaction, and the `new` assignment
    (kept out of the session) with them: one statement on PostgreSQL, two elsewhere. The
    relay is woken after the commit, as after `enqueue()`."""
    if new is not None and rows and session.get_bind().dialect.name == "postgresql":
        params = assignment_values(new, "a_")
        for i, row in enumerate(rows):
            params.update((f"o{i}_{key}", value) for key, value in row.items())
        await session.execute(_with_assignment(len(rows)), params)
        wake_after_commit(session)
        return
    if new is not None:
        await insert_assignment(session, new)
    if rows:
        await session.execute(_INSERT, list(rows))
        wake_after_commit(session)


@functools.lru_cache(maxsize=8)
def _with_assignment(count: int) -> Insert:
    """`count` outbox rows and, in a data-modifying WITH, one assignment, values bound (a
    multi-row VALUES would be compiled again at every execution). Built once per count: the
    statement depends on nothing else."""
    new = assignment_insert("a_").cte("new_assignment")
    rows = [select(*(bindparam(f"o{i}_{key}", type_=_outbox.c[key].type) for key in COLUMNS))
            for i in range(count)]
    # Columns left out take their server defaults (a row's failure count among them).
    return (insert(_outbox).from_select(COLUMNS, union_all(*rows), include_defaults=False)
            .add_cte(new))


async def delete_undelivered(session: AsyncSession, key_prefix: str) -> None:
    """Drop the outbox rows whose idempotency key starts with `key_prefix` and that were
    neither delivered nor given up on."""
    await session.execute(delete(_outbox).where(
        _outbox.c.idempotency_key.startswith(key_prefix, autoescape=True),
        _outbox.c.delivered_at.is_(None), _outbox.c.dead_at.is_(None)))
