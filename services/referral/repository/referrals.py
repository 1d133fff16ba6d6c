"""Queries of referrals and their timelines."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import Referral, ReferralEvent

# Statuses in which nobody has accepted the referral yet: its SLA clock is running.
AWAITING_ACCEPTANCE = ("received", "routed", "assigned", "declined", "reassigned")


async def get_referral(session: AsyncSession, referral_id: str) -> Referral | None:
    return await session.get(Referral, referral_id)


async def get_referral_for_update(session: AsyncSession, referral_id: str) -> Referral | None:
    """The referral, locked against concurrent status changes (a no-op lock on SQLite)."""
    stmt = select(Referral).where(Referral.id == referral_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def get_by_reference(session: AsyncSession, reference: str) -> Referral | None:
    return (await session.scalars(select(Referral).where(Referral.reference == reference))).first()


async def get_visible(session: AsyncSession, referral_id: str, org: str | None,
                      all_orgs: bool) -> Referral | None:
    """A referral the caller may see: its own organisation's, or any for staff."""
    referral = await session.get(Referral, referral_id)
    if referral is None or (not all_orgs and referral.org != org):
        return None
    return referral


async def list_referrals(
    session: AsyncSession, *, org: str | None, all_orgs: bool, status: str | None,
    since: datetime | None, after: tuple[datetime, str] | None, limit: int,
    reference: str | None = None, external_reference: str | None = None,
) -> Sequence[Referral]:
    """Newest first, keyset-paged on (created_at, id)."""
    stmt = select(Referral).order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)
    if not all_orgs:
        stmt = stmt.where(Referral.org == org)
    if status:
        stmt = stmt.where(Referral.status == status)
    if reference:
        stmt = stmt.where(Referral.reference == reference)
    if external_reference:
        stmt = stmt.where(Referral.external_reference == external_reference)
    if since:
        stmt = stmt.where(Referral.updated_at >= since)
    if after:
        at, rid = after
        stmt = stmt.where(or_(Referral.created_at < at,
                              and_(Referral.created_at == at, Referral.id < rid)))
    return (await session.scalars(stmt)).all()


async def timelines(session: AsyncSession,
                    referral_ids: Sequence[str]) -> dict[str, list[ReferralEvent]]:
    """The timeline of each referral, oldest first."""
    out: dict[str, list[ReferralEvent]] = {rid: [] for rid in referral_ids}
    if not referral_ids:
        return out
    stmt = (select(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids))
            .order_by(ReferralEvent.at, ReferralEvent.id))
    for event in (await session.scalars(stmt)).all():
        out[event.referral_id].append(event)
    return out


async def open_held(session: AsyncSession, statuses: Sequence[str], *, everyone: bool,
                    keyworker_id: str | None) -> Sequence[Referral]:
    """Referrals in `statuses` (everyone's, or of one key worker), soonest due first."""
    stmt = select(Referral).where(Referral.status.in_(statuses))
    if not everyone:
        stmt = stmt.where(Referral.keyworker_id == keyworker_id)
    return (await session.scalars(stmt.order_by(Referral.respond_by).limit(500))).all()


async def others_of_person(session: AsyncSession, person_id: str,
                           but: str) -> Sequence[Referral]:
    """The person's referrals other than `but`, newest first (at most 100)."""
    stmt = (select(Referral).where(Referral.person_id == person_id, Referral.id != but)
            .order_by(Referral.created_at.desc()).limit(100))
    return (await session.scalars(stmt)).all()


async def holds_person(session: AsyncSession, keyworker_id: str, person_id: str,
                       statuses: Collection[str]) -> bool:
    """Whether the key worker has a referral of the person in one of `statuses`."""
    stmt = select(Referral.id).where(Referral.person_id == person_id,
                                     Referral.keyworker_id == keyworker_id,
                                     Referral.status.in_(statuses)).limit(1)
    return (await session.scalar(stmt)) is not None


async def sla_list(session: AsyncSession, *, state: str, now: datetime,
                   limit: int) -> Sequence[Referral]:
    """Unaccepted referrals past their deadline (`overdue`) or past the alert point (`at_risk`)."""
    stmt = select(Referral).where(Referral.status.in_(AWAITING_ACCEPTANCE))
    if state == "overdue":
        stmt = stmt.where(Referral.respond_by <= now)
    else:
        stmt = stmt.where(Referral.sla_alert_at <= now, Referral.respond_by > now)
    return (await session.scalars(stmt.order_by(Referral.respond_by).limit(limit))).all()


async def awaiting_counts(session: AsyncSession,
                          now: datetime) -> tuple[int, datetime | None, int, int]:
    """Of the referrals nobody has accepted: how many, the oldest's creation, how many are past
    their alert point (not yet due) and how many past their deadline."""
    count, oldest, at_risk, overdue = (await session.execute(select(
        func.count(), func.min(Referral.created_at),
        func.count().filter(Referral.sla_alert_at <= now, Referral.respond_by > now),
        func.count().filter(Referral.respond_by <= now))
        .where(Referral.status.in_(AWAITING_ACCEPTANCE)))).one()
    return count, oldest, at_risk, overdue


async def awaiting_soonest_due(session: AsyncSession, limit: int) -> Sequence[Referral]:
    """The referrals nobody has accepted, soonest due first."""
    stmt = (select(Referral).where(Referral.status.in_(AWAITING_ACCEPTANCE))
            .order_by(Referral.respond_by, Referral.id).limit(limit))
    return (await session.scalars(stmt)).all()
