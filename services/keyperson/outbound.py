"""What keyperson tells the other services, always through its outbox.

An assignment's events are rows built here and written by `send()` on the table itself,
with the columns `enqueue()` writes; on PostgreSQL a new assignment goes in the same
statement. The unit of work's flush of the same rows cost about as much CPU as all of an
assignment's reads, and a round trip more.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, delete, insert, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import enqueue, priority_for
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, OutboxMessage
from services.keyperson.repository import WorkerRow

OutboxRow = dict[str, Any]
_outbox = cast(Table, OutboxMessage.__table__)
_INSERT = insert(_outbox)
_COLUMNS = ("idempotency_key", "target", "path", "payload", "reply_handler", "attempts",
            "created_at", "next_attempt_at", "priority")


def _row(key: str, target: str, path: str, payload: dict[str, Any],
         now: datetime) -> OutboxRow:
    """An outbox row due now, as `enqueue()` with no delay and no reply handler writes it
    (claimed by the urgency it carries: an emergency's handoff goes first)."""
    return {"idempotency_key": key, "target": target, "path": path, "payload": payload,
            "reply_handler": None, "attempts": 0, "created_at": now, "next_attempt_at": now,
            "priority": priority_for(payload.get("urgency"))}


async def send(session: AsyncSession, rows: Sequence[OutboxRow],
               new: Assignment | None = None) -> None:
    """Add the rows to the outbox in the caller's transaction, and the `new` assignment
    (kept out of the session) with them: one statement on PostgreSQL, two elsewhere. The
    relay is woken after the commit, as after `enqueue()`."""
    if new is not None and rows and session.get_bind().dialect.name == "postgresql":
        params = repo.assignment_values(new, "a_")
        for i, row in enumerate(rows):
            params.update((f"o{i}_{key}", value) for key, value in row.items())
        await session.execute(_with_assignment(len(rows)), params)
        session.info["outbox_pending"] = True
        return
    if new is not None:
        await repo.insert_assignment(session, new)
    if rows:
        await session.execute(_INSERT, list(rows))
        session.info["outbox_pending"] = True


@functools.lru_cache(maxsize=8)
def _with_assignment(count: int) -> Insert:
    """`count` outbox rows and, in a data-modifying WITH, one assignment, values bound (a
    multi-row VALUES would be compiled again at every execution)."""
    new = repo.assignment_insert("a_").cte("new_assignment")
    rows = [select(*(bindparam(f"o{i}_{key}", type_=_outbox.c[key].type) for key in _COLUMNS))
            for i in range(count)]
    # Columns left out take their server defaults (a row's claim priority among them).
    return (insert(_outbox).from_select(_COLUMNS, union_all(*rows), include_defaults=False)
            .add_cte(new))


def handoff(a: Assignment, worker: WorkerRow, now: datetime) -> OutboxRow:
    """Ask notify to hand the referral to `worker` (one handoff per attempt)."""
    key = f"{a.referral_id}:{a.attempt}"
    return _row(f"handoff:{key}", "notify", "/internal/handoffs", {
        "handoff_key": key, "referral_id": a.referral_id, "reference": a.reference,
        "urgency": a.urgency, "respond_by": a.respond_by.isoformat(),
        "keyworker_id": worker.id, "phone": worker.phone, "email": worker.email}, now)


def referral_event(a: Assignment, event: str, now: datetime) -> OutboxRow:
    """Tell referral the referral was assigned or reassigned, and to whom."""
    return _row(f"event:{a.referral_id}:{a.attempt}", "referral",
                f"/internal/referrals/{a.referral_id}/events",
                {"event": event, "at": now.isoformat(), "keyworker_id": a.keyworker_id}, now)


def nobody_fits(a: Assignment, now: datetime) -> OutboxRow:
    """Alert the duty coordinators: no key worker fitted this referral."""
    key = f"nobody_fits:{a.referral_id}:{a.attempt}"
    return _row(f"alert:{key}", "notify", "/internal/alerts", {
        "alert_key": key, "kind": "nobody_fits", "reference": a.reference,
        "referral_id": a.referral_id, "urgency": a.urgency,
        "respond_by": a.respond_by.isoformat()}, now)


async def withdraw_nobody_fits(session: AsyncSession, referral_id: str) -> None:
    """A key worker holds the referral now: `nobody_fits` alerts not yet handed to notify
    would be stale, so they are not sent."""
    await session.execute(delete(_outbox).where(
        _outbox.c.idempotency_key.startswith(f"alert:nobody_fits:{referral_id}:",
                                             autoescape=True),
        _outbox.c.delivered_at.is_(None), _outbox.c.dead_at.is_(None)))


def absence_timer(session: AsyncSession, absence_id: str, now: datetime, delay: float) -> None:
    """Wake this service when an absence starts, to move the worker's people to cover."""
    enqueue(session, OutboxMessage, key=f"absence:{absence_id}", target="local",
            path=ABSENCE_STARTS, payload={"absence_id": absence_id}, now=now, delay=delay)


ABSENCE_STARTS = "absence.starts"
