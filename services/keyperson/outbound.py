"""What keyperson tells the other services, always through its outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import enqueue
from services.keyperson.models import Assignment, OutboxMessage
from services.keyperson.repository import WorkerRow


def handoff(session: AsyncSession, a: Assignment, worker: WorkerRow, now: datetime) -> None:
    """Ask notify to hand the referral to `worker` (one handoff per attempt)."""
    key = f"{a.referral_id}:{a.attempt}"
    enqueue(session, OutboxMessage, key=f"handoff:{key}", target="notify",
            path="/internal/handoffs", now=now, payload={
                "handoff_key": key, "referral_id": a.referral_id, "reference": a.reference,
                "urgency": a.urgency, "respond_by": a.respond_by.isoformat(),
                "keyworker_id": worker.id, "phone": worker.phone, "email": worker.email})


def referral_event(session: AsyncSession, a: Assignment, event: str, now: datetime) -> None:
    """Tell referral the referral was assigned or reassigned, and to whom."""
    enqueue(session, OutboxMessage, key=f"event:{a.referral_id}:{a.attempt}", target="referral",
            path=f"/internal/referrals/{a.referral_id}/events", now=now,
            payload={"event": event, "at": now.isoformat(), "keyworker_id": a.keyworker_id})


def nobody_fits(session: AsyncSession, a: Assignment, now: datetime) -> None:
    """Alert the duty coordinators: no key worker fitted this referral."""
    key = f"nobody_fits:{a.referral_id}:{a.attempt}"
    enqueue(session, OutboxMessage, key=f"alert:{key}", target="notify",
            path="/internal/alerts", now=now, payload={
                "alert_key": key, "kind": "nobody_fits", "reference": a.reference,
                "referral_id": a.referral_id, "urgency": a.urgency,
                "respond_by": a.respond_by.isoformat()})


def absence_timer(session: AsyncSession, absence_id: str, now: datetime, delay: float) -> None:
    """Wake this service when an absence starts, to move the worker's people to cover."""
    enqueue(session, OutboxMessage, key=f"absence:{absence_id}", target="local",
            path=ABSENCE_STARTS, payload={"absence_id": absence_id}, now=now, delay=delay)


ABSENCE_STARTS = "absence.starts"
