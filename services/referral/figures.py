"""Referral's part of the monthly figures, from referral's own tables: referrals received
(by source, urgency and locality as routed), time to contact, respond-by met, referrals
closed, by outcome, and outreach visits given and how they went."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month, median, p90
from services.common.figures_api import figures_router
from services.referral import outreach
from services.referral.directory import figures as directory_figures
from services.referral.models import Referral, ReferralEvent, ReferralNote

# A self-referral has no organisation: the person made it through the line themselves.
SELF_REFERRAL = "Self-referral"
NO_OUTCOME = "not_given"


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


async def received(session: AsyncSession, month: Month) -> dict[str, Any]:
    """Referrals received in the month, with when each first reached `contacted` (if it has)."""
    # Per referral (by its indexed referral_id), not over every event ever recorded.
    contacted = (select(func.min(ReferralEvent.at))
                 .where(ReferralEvent.referral_id == Referral.id,
                        ReferralEvent.event == "contacted")
                 .correlate(Referral).scalar_subquery())
    stmt = (select(Referral.org, Referral.urgency, Referral.locality, Referral.person_id,
                   Referral.created_at, Referral.respond_by, contacted)
            .where(Referral.created_at >= month.start, Referral.created_at < month.end))
    by_source: Counter[str] = Counter()
    by_urgency: Counter[str] = Counter()
    by_locality: Counter[str] = Counter()
    respond_by: dict[str, dict[str, int]] = {}
    hours: list[float] = []
    people: set[str] = set()
    total = 0
    for org, urgency, locality, person_id, created, due, contacted_at in (
            await session.execute(stmt)):
        total += 1
        by_source[org or SELF_REFERRAL] += 1
        by_urgency[urgency] += 1
        by_locality[locality] += 1
        row = respond_by.setdefault(urgency, {"referrals": 0, "contacted_in_time": 0})
        row["referrals"] += 1
        if person_id:
            people.add(person_id)
        if contacted_at is not None:
            hours.append(_hours(created, contacted_at))
            row["contacted_in_time"] += int(contacted_at <= due)
    return {
        "referrals": {"total": total, "by_source": dict(sorted(by_source.items())),
                      "by_urgency": dict(sorted(by_urgency.items())),
                      "by_locality": dict(sorted(by_locality.items()))},
        "time_to_contact_hours": {"n": len(hours), "median": median(hours), "p90": p90(hours)},
        "respond_by": dict(sorted(respond_by.items())),
        "people": sorted(people),
    }


async def closed_by_outcome(session: AsyncSession, month: Month) -> dict[str, int]:
    """Referrals closed in the month (closed is final, so its status time is when)."""
    outcome = func.coalesce(Referral.outcome, NO_OUTCOME)
    stmt = (select(outcome, func.count())
            .where(and_(Referral.status == "closed", Referral.status_at >= month.start,
                        Referral.status_at < month.end))
            .group_by(outcome))
    return {str(k): int(v) for k, v in sorted(await session.execute(stmt))}


async def outreach_visits(session: AsyncSession, month: Month) -> dict[str, Any]:
    """Outreach visits given in the month (a visit given again to someone else counts again)
    and the outcomes recorded in the month, by outcome; both from the visits' own notes."""
    stmt = (select(ReferralNote.kind, ReferralNote.text)
            .where(ReferralNote.kind.in_((outreach.VISIT, outreach.OUTCOME)),
                   ReferralNote.created_at >= month.start, ReferralNote.created_at < month.end))
    assigned = 0
    by_outcome: Counter[str] = Counter()
    for kind, text in await session.execute(stmt):
        if kind == outreach.VISIT:
            assigned += 1
        else:
            by_outcome[str(json.loads(text)["outcome"])] += 1
    return {"assigned": assigned, "by_outcome": dict(sorted(by_outcome.items()))}


async def monthly(session: AsyncSession, month: Month) -> dict[str, Any]:
    return {**await received(session, month),
            "closed_by_outcome": await closed_by_outcome(session, month),
            "outreach_visits": await outreach_visits(session, month),
            "signposted": await directory_figures.signposted(session, month)}


router = figures_router(monthly)
