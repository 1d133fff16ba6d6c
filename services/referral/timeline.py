"""Status moves forward only; every step is kept on the timeline, and a move is told to the
referrer's webhooks by whoever records it (`record_and_announce`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import Referral, ReferralEvent
from services.referral.webhooks import Announcer

# Declined and reassigned happen between assigned and accepted, possibly several times;
# within one rank the later event wins.
RANK = {"received": 0, "routed": 1, "assigned": 2, "declined": 2, "reassigned": 2,
        "accepted": 3, "contacted": 4, "closed": 5}


def moves_forward(referral: Referral, status: str, at: datetime) -> bool:
    """True when `status` at `at` is ahead of where the referral is (closed is final)."""
    if referral.status == "closed":
        return False
    current, new = RANK[referral.status], RANK[status]
    return new > current or (new == current and at >= referral.status_at)


def record(
    session: AsyncSession, referral: Referral, event: str, at: datetime, now: datetime, *,
    status: str | None = None, keyworker_id: str | None = None,
) -> bool:
    """Add `event` to the timeline; move the status if it is ahead. Returns whether it moved.

    Tells nobody: a step that may move the status goes through `record_and_announce`."""
    event = _as_recorded(referral, event)
    target = status or (event if event in RANK else None)
    moved = target is not None and moves_forward(referral, target, at)
    if moved and target is not None:
        referral.status, referral.status_at = target, at
        if target == "accepted" and referral.accepted_at is None:
            referral.accepted_at = at
        if keyworker_id and target in ("assigned", "accepted", "reassigned"):
            referral.keyworker_id = keyworker_id
    referral.updated_at = now
    session.add(ReferralEvent(referral_id=referral.id, event=event, status=referral.status,
                              at=at, recorded_at=now, keyworker_id=keyworker_id))
    return moved


async def record_and_announce(
    session: AsyncSession, announcer: Announcer, referral: Referral, event: str, at: datetime,
    now: datetime, *, status: str | None = None, keyworker_id: str | None = None,
) -> bool:
    """`record`, and when the status moved, queue its delivery to the referrer's webhooks (the
    event as recorded: a first `reassigned` is announced as `assigned`)."""
    event = _as_recorded(referral, event)
    moved = record(session, referral, event, at, now, status=status,
                         keyworker_id=keyworker_id)
    if moved:
        await announcer.announce(session, referral, event, at, now)
    return moved


def _as_recorded(referral: Referral, event: str) -> str:
    if event == "reassigned" and RANK[referral.status] < RANK["assigned"]:
        # Keyperson calls a key worker found on a retry (nobody fitted at first, then a shift
        # started) a reassignment; the referrer was never told of an earlier one, and the
        # timeline promises them an `assigned` step.
        return "assigned"
    return event
