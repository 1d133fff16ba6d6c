"""Signposts per service in the monthly figures (`"signposted": {"<service name>": n}`).

Counted from referral's own signposts: a referral whose person was sent a service's details in
the month, or that was closed as `signposted` naming the service, counts once for that
service. Names are as the service was called then (a renamed service keeps its history)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month
from services.referral.directory import repository


async def signposted(session: AsyncSession, month: Month) -> dict[str, int]:
    counts = await repository.referrals_signposted_per_service(session, month.start, month.end)
    return dict(sorted(counts.items()))
