"""What keyperson tells the other services about an assignment, always through its outbox.

The rows are built here and written by `send()` through `repository.outbox`, with the
columns `enqueue()` writes; on PostgreSQL a new assignment goes in the same statement (why
this does not use `enqueue()` is said there).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import priority_for
from services.keyperson import repository as repo
from services.keyperson.models import Assignment
from services.keyperson.repository import OutboxRow, WorkerRow


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
    (kept out of the session) with them. Nothing leaves before the commit."""
    await repo.write_announcements(session, rows, new)


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
    await repo.delete_undelivered(session, f"alert:nobody_fits:{referral_id}:")
