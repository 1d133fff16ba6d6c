"""Notify's part of the monthly figures, from notify's own handoff table: handoffs offered in
the month, how many of those were accepted or declined, and minutes from offer to accept."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month, median
from services.common.figures_api import figures_router
from services.notify import repository


async def handoffs(session: AsyncSession, month: Month) -> dict[str, Any]:
    """Each handoff row is one offer to one key worker (a re-offer is a new row); a handoff
    closes `accepted` or `declined` at the worker's reply (or `expired`/`failed`)."""
    offered = declined = 0
    minutes: list[float] = []
    for status, offered_at, closed_at in await repository.offers_between(session, month.start,
                                                                         month.end):
        offered += 1
        if status == "accepted" and closed_at is not None:
            minutes.append((closed_at - offered_at).total_seconds() / 60)
        declined += int(status == "declined")
    return {"offered": offered, "accepted": len(minutes), "declined": declined,
            "median_minutes_to_accept": median(minutes)}


async def monthly(session: AsyncSession, month: Month) -> dict[str, Any]:
    return {"handoffs": await handoffs(session, month)}


router = figures_router(monthly)
