"""Referrals waiting for a key worker are tried again when that may now succeed.

A referral nobody fitted is `unassigned` (nobody on duty either) or held by the duty
coordinator. It is tried again, soonest respond-by first, when a shift starts (a durable timer
at its start), a worker is added or changed (areas, maximum, back to active), or an absence
ends (a timer at its end) or is cancelled. A try that finds nobody better changes nothing and
sends nothing: the `nobody_fits` alert was raised once, when the referral first waited.
Once a key worker holds the referral, the undelivered alert rows are withdrawn and the
on-duty lookup behind an alert already in notify says it is superseded (`alert_superseded`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id
from services.common.outbox import enqueue
from services.keyperson import assignment, outbound
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, OutboxMessage

log = logging.getLogger(__name__)
BATCH = 100  # referrals tried per transaction; a full batch queues the next one
RETRY_HANDLER = "assignment.retry_waiting"  # the local timer that tries waiting referrals
KEY_WORKER_VIA = ("continuity", "ranking")


def queue_retry(session: AsyncSession, now: datetime, *, delay: float = 0.0,
                key: str | None = None, payload: dict[str, Any] | None = None) -> None:
    """Try the waiting referrals again after this transaction (or at `delay` seconds: a
    durable timer, keyed by what it waits for)."""
    enqueue(session, OutboxMessage, key=key or f"retry:{new_id()}", target="local",
            path=RETRY_HANDLER, payload=payload or {}, now=now, delay=delay)


async def settle(session: AsyncSession, a: Assignment, now: datetime) -> bool:
    """Run the rules again for one waiting referral; True when it moved.

    It moves to a key worker, or from `unassigned` to the duty coordinator now on duty;
    otherwise it stays as it is, and any place a try took is counted again.
    """
    was_unassigned = a.status == "unassigned"
    previous = a.keyworker_id
    need, known, context = await assignment.settle_need(session, a, now)
    choice = await assignment.choose(session, need, now, a.respond_by, known=known)
    worker = choice.worker
    better = choice.via in KEY_WORKER_VIA or (choice.via == "duty_coordinator"
                                              and was_unassigned)
    if worker is None or not better:
        if worker is not None:
            await repo.recount_caseload(session, worker.id)
        return False
    a.attempt += 1
    assignment.apply_choice(a, choice, context.link_keyworker_id, now)
    event = "assigned" if was_unassigned else "reassigned"
    await outbound.send(session, [outbound.handoff(a, worker, now),
                                  outbound.referral_event(a, event, now)])
    if choice.via in KEY_WORKER_VIA:
        await outbound.withdraw_nobody_fits(session, a.referral_id)
    if previous is not None:
        await repo.recount_caseload(session, previous)
    log.info("waiting referral assigned", extra={
        "event": "assignment.retried", "step": a.via, "attempts": a.attempt,
        "referral_id": a.referral_id, "keyworker_id": a.keyworker_id})
    return True


async def retry_waiting(session: AsyncSession, now: datetime,
                        after: tuple[datetime, str] | None = None) -> int:
    """Try one batch of waiting referrals (the retry timer); queue the next batch when this
    one was full. Returns how many moved."""
    batch = await repo.waiting_assignments(session, BATCH, after)
    moved = 0
    for a in batch:
        moved += await settle(session, a, now)
        await session.flush()  # a person's next waiting referral follows this one
    if len(batch) == BATCH:
        last = batch[-1]
        queue_retry(session, now, payload={"after": [last.respond_by.isoformat(), last.id]})
    if moved:
        log.info("waiting referrals given a key worker or duty coordinator",
                 extra={"event": "assignment.retry_waiting", "count": moved})
    return moved


def cursor(payload: dict[str, Any]) -> tuple[datetime, str] | None:
    """The page a queued retry continues after, if any."""
    after = payload.get("after")
    if not isinstance(after, list) or len(after) != 2:
        return None
    return datetime.fromisoformat(str(after[0])), str(after[1])


async def alert_superseded(session: AsyncSession, referral_id: str) -> bool:
    """Whether a `nobody_fits` alert about the referral is stale: a key worker holds it now,
    or it is closed. Notify then tells nobody of a problem that is over."""
    a = await repo.assignment_for(session, referral_id)
    if a is None or not (a.status == "closed" or (a.status in repo.HELD
                                                  and a.via in KEY_WORKER_VIA)):
        return False
    log.info("nobody_fits alert superseded", extra={
        "event": "alert.superseded", "referral_id": referral_id, "step": a.via})
    return True
