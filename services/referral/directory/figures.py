"""Signposts per service in the monthly figures (`"signposted": {"<service name>": n}`).

Counted from referral's own signposts: a referral whose person was sent a service's details in
the month, or that was closed as `signposted` naming the service, counts once for that
service. Names are as the service was called then (a renamed service keeps its history)."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month
from services.referral.directory.models import Signpost


async def signposted(session: AsyncSession, month: Month) -> dict[str, int]:
    stmt = (select(Signpost.service_name, func.count(distinct(Signpost.referral_id)))
            .where(Signpost.created_at >= month.start, Signpost.created_at < month.end)
            .group_by(Signpost.service_name))
    return {str(name): int(n) for name, n in sorted((await session.execute(stmt)).all())}
