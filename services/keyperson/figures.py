"""Keyperson's part of the monthly figures, from keyperson's own tables: continuity, i.e.
referrals for people who already had a key worker, and how many that same worker accepted.

`assignment.key_person_id` is the person's key worker when the assignment was asked for
(recorded from revision 0008 on; earlier assignments have none and are not counted). An
assignment is asked for as the referral is routed, so the month is the assignment's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month
from services.common.figures_api import figures_router
from services.keyperson import repository as repo


async def continuity(session: AsyncSession, month: Month) -> dict[str, int]:
    returning, kept = await repo.continuity_counts(session, month.start, month.end)
    return {"returning_people": returning, "same_key_worker": kept}


async def monthly(session: AsyncSession, month: Month) -> dict[str, Any]:
    return {"continuity": await continuity(session, month)}


router = figures_router(monthly)
