"""The referrals intake knows of (a reference, its person, urgency and deadline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import ReferralLink
from services.intake.repository.rows import inserted


async def get_link(session: AsyncSession, reference: str) -> ReferralLink | None:
    return await session.get(ReferralLink, reference)


async def link_for_referral(session: AsyncSession, referral_id: str) -> ReferralLink | None:
    stmt = select(ReferralLink).where(ReferralLink.referral_id == referral_id)
    return (await session.scalars(stmt)).first()


async def open_link_for_person(session: AsyncSession, person_id: str, since: datetime,
                               *, urgency: str | None = None) -> ReferralLink | None:
    """The newest referral for this person opened after `since` (of `urgency`, if given)."""
    stmt = (select(ReferralLink)
            .where(ReferralLink.person_id == person_id, ReferralLink.opened_at >= since)
            .order_by(desc(ReferralLink.opened_at)).limit(1))
    if urgency is not None:
        stmt = stmt.where(ReferralLink.urgency == urgency)
    return (await session.scalars(stmt)).first()


async def references_of_people(session: AsyncSession,
                                person_ids: list[str]) -> dict[str, list[str]]:
    """Each person's referral references, newest first (the desk opens their page by one)."""
    if not person_ids:
        return {}
    stmt = (select(ReferralLink.person_id, ReferralLink.reference)
            .where(ReferralLink.person_id.in_(person_ids))
            .order_by(desc(ReferralLink.opened_at), ReferralLink.reference))
    out: dict[str, list[str]] = {}
    for person_id, reference in (await session.execute(stmt)).all():
        out.setdefault(str(person_id), []).append(str(reference))
    return out


async def add_link_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await inserted(session, ReferralLink, values)
