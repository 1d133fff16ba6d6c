"""Status moves forward only; every step is kept on the timeline and told to the referrer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.referral import webhooks
from services.referral.models import Referral, ReferralEvent

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


async def record(
    session: AsyncSession, referral: Referral, event: str, at: datetime, now: datetime, *,
    status: str | None = None, keyworker_id: str | None = None,
) -> bool:
    """Add `event` to the timeline; move the status if it is ahead. Returns whether it moved."""
    if event == "reassigned" and RANK[referral.status] < RANK["assigned"]:
        # Keyperson calls a key worker found on a retry (nobody fitted at first, then a shift
        # started) a reassignment; the referrer was never told of an earlier one, and the
        # timeline promises them an `assigned` step.
        event = "assigned"
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
    if moved:
        await webhooks.announce(session, referral, event, at, now)
    return moved
