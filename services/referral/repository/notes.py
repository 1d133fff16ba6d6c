"""Notes on referrals: added information, contact attempts, plans and outreach visits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import Referral, ReferralNote


async def notes(session: AsyncSession, referral_id: str) -> Sequence[ReferralNote]:
    stmt = select(ReferralNote).where(ReferralNote.referral_id == referral_id)
    return (await session.scalars(stmt.order_by(ReferralNote.created_at))).all()


async def get_note(session: AsyncSession, note_id: str) -> ReferralNote | None:
    return await session.get(ReferralNote, note_id)


async def notes_of_kinds(session: AsyncSession, referral_ids: Sequence[str],
                         kinds: Sequence[str]) -> Sequence[ReferralNote]:
    """The notes of these kinds on any of the referrals (in no particular order)."""
    stmt = select(ReferralNote).where(ReferralNote.referral_id.in_(list(referral_ids)),
                                      ReferralNote.kind.in_(kinds))
    return (await session.scalars(stmt)).all()


async def unreached(session: AsyncSession, *, unanswered: int, locality: str | None,
                    reference: str | None, limit: int) -> Sequence[tuple[Referral, int]]:
    """Referrals closed `not_reached`, or open with at least `unanswered` contact attempts and
    none that reached the person, each with its count of unanswered attempts, the latest
    status change first."""
    tries = (select(ReferralNote.referral_id.label("rid"),
                    func.count().filter(ReferralNote.text != "reached").label("unanswered"),
                    func.count().filter(ReferralNote.text == "reached").label("reached"))
             .where(ReferralNote.kind == "attempt").group_by(ReferralNote.referral_id)
             .subquery())
    stmt = (select(Referral, func.coalesce(tries.c.unanswered, 0))
            .outerjoin(tries, tries.c.rid == Referral.id)
            .where(or_(and_(Referral.status == "closed", Referral.outcome == "not_reached"),
                       and_(Referral.status != "closed", tries.c.unanswered >= unanswered,
                            tries.c.reached == 0))))
    if locality:
        stmt = stmt.where(Referral.locality == locality)
    if reference:
        stmt = stmt.where(Referral.reference == reference)
    rows = (await session.execute(stmt.order_by(Referral.status_at.desc()).limit(limit))).all()
    return [(referral, int(count)) for referral, count in rows]
