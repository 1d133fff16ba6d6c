"""The queries of intake's part of the monthly figures (from intake's own tables only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.intake.models import Contact, Person, PersonIdentifier


async def merged_pairs(session: AsyncSession) -> dict[str, str]:
    """Each merged person → the person they were merged into (one step of the chain)."""
    rows = (await session.execute(
        select(Person.id, Person.merged_into).where(Person.merged_into.is_not(None))))
    return {person: into for person, into in rows if into is not None}


async def contacts_by_channel(session: AsyncSession, start: datetime,
                              end: datetime) -> dict[str, int]:
    """How many contacts each channel had in [start, end)."""
    in_month = and_(Contact.created_at >= start, Contact.created_at < end)
    stmt = select(Contact.channel, func.count()).where(in_month).group_by(Contact.channel)
    return {str(channel): int(count) for channel, count in (await session.execute(stmt)).all()}


async def senders(session: AsyncSession, start: datetime,
                  end: datetime) -> Sequence[tuple[str | None, str | None, str]]:
    """(person, sender, contact id) of each contact in [start, end): a contact without a
    person is matched by its sender to a person known by that number or address."""
    ident = aliased(PersonIdentifier)
    in_month = and_(Contact.created_at >= start, Contact.created_at < end)
    who = func.coalesce(Contact.person_id, ident.person_id)
    stmt = (select(who, Contact.from_address, Contact.id)
            .select_from(Contact)
            .outerjoin(ident, and_(Contact.person_id.is_(None),
                                   ident.value == Contact.from_address,
                                   ident.kind.in_(("phone", "email"))))
            .where(in_month))
    return [(person_id, address, contact_id)
            for person_id, address, contact_id in (await session.execute(stmt))]


async def senders_seen_before(session: AsyncSession, start: datetime,
                              end: datetime) -> set[str | None]:
    """Senders without a person in [start, end) who were in touch before `start`: one pass
    over the earlier contacts, joined to the month's anonymous senders."""
    in_month = and_(Contact.created_at >= start, Contact.created_at < end)
    before = aliased(Contact)
    return set((await session.execute(
        select(Contact.from_address).distinct()
        .join(before, before.from_address == Contact.from_address)
        .where(in_month, Contact.person_id.is_(None),
               before.created_at < start))).scalars())


async def first_recorded_between(session: AsyncSession, start: datetime,
                                 end: datetime) -> list[str]:
    """People whose first record (theirs or of anyone merged into them) is in [start, end),
    by the record they were merged into (if any)."""
    group = func.coalesce(Person.merged_into, Person.id)
    first = func.min(Person.created_at)
    stmt = (select(group, first).group_by(group)
            .having(and_(first >= start, first < end)))
    return [str(p) for p, _ in (await session.execute(stmt))]


async def crisis_call_times(session: AsyncSession, start: datetime,
                            end: datetime) -> Sequence[tuple[datetime, datetime | None]]:
    """(started, answered) of each call in [start, end) that took the crisis route."""
    stmt = select(Contact.created_at, Contact.answered_at).where(
        Contact.channel == "voice", Contact.ivr_choice == "crisis",
        Contact.created_at >= start, Contact.created_at < end)
    return [(started, answered) for started, answered in (await session.execute(stmt)).all()]
