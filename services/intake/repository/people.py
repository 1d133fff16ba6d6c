"""The person index: people, their identifiers, possible matches, search and merges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.phone import is_verified
from services.intake.models import (
    Callback,
    Contact,
    Person,
    PersonIdentifier,
    PossibleMatch,
    ReferralLink,
)
from services.intake.repository.rows import insert_ignore, inserted


async def person_for_identifier(session: AsyncSession, kind: str, value: str) -> str | None:
    stmt = select(PersonIdentifier.person_id).where(PersonIdentifier.kind == kind,
                                                    PersonIdentifier.value == value)
    return (await session.scalars(stmt)).first()


async def identifiers_of(session: AsyncSession, person_id: str) -> Sequence[PersonIdentifier]:
    stmt = select(PersonIdentifier).where(PersonIdentifier.person_id == person_id)
    return (await session.scalars(stmt.order_by(PersonIdentifier.kind))).all()


async def get_person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def people_named(session: AsyncSession, family_name: str) -> Sequence[Person]:
    """Live people with this family name (any case), for weaker matches."""
    stmt = select(Person).where(func.lower(Person.family_name) == family_name.lower(),
                                Person.merged_into.is_(None))
    return (await session.scalars(stmt.limit(200))).all()


async def people_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Person]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(ids)))}


async def identifiers_of_people(session: AsyncSession,
                                ids: Sequence[str]) -> Sequence[PersonIdentifier]:
    """Every identifier of these people, in the order they were added."""
    if not ids:
        return []
    stmt = select(PersonIdentifier).where(PersonIdentifier.person_id.in_(ids))
    return (await session.scalars(stmt.order_by(PersonIdentifier.id))).all()


def _like(prefix: str) -> str:
    return prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _by_identifier(kind: str, value: str) -> Select[str]:
    return select(PersonIdentifier.person_id).where(PersonIdentifier.kind == kind,
                                                    PersonIdentifier.value == value)


async def search_people(session: AsyncSession, by: str, value: str,
                        limit: int) -> Sequence[Person]:
    """Live people (merged records left out) found by one normalised value: a name's words
    as prefixes of the given and family names, an identifier, a date of birth (ISO) or a
    reference (of a contact or a referral); by family name, given name."""
    stmt = select(Person).where(Person.merged_into.is_(None))
    if by == "name":
        words = value.split()
        if len(words) == 1:
            like = _like(words[0])
            stmt = stmt.where(or_(func.lower(Person.given_name).like(like, escape="\\"),
                                  func.lower(Person.family_name).like(like, escape="\\")))
        else:
            given, family = _like(words[0]), _like(" ".join(words[1:]))
            stmt = stmt.where(func.lower(Person.given_name).like(given, escape="\\"),
                              func.lower(Person.family_name).like(family, escape="\\"))
    elif by in ("phone", "email", "nhs_number"):
        stmt = stmt.where(Person.id.in_(_by_identifier(by, value)))
    elif by == "date_of_birth":
        stmt = stmt.where(Person.date_of_birth == date.fromisoformat(value))
    elif by == "reference":
        via_contact = select(Contact.person_id).where(Contact.reference == value)
        via_link = select(ReferralLink.person_id).where(ReferralLink.reference == value)
        stmt = stmt.where(or_(Person.id.in_(via_contact), Person.id.in_(via_link)))
    else:
        raise ValueError(f"no search by {by}")
    stmt = stmt.order_by(Person.family_name, Person.given_name, Person.id).limit(limit)
    return (await session.scalars(stmt)).all()


async def add_identifier_if_new(session: AsyncSession, person_id: str, kind: str, value: str,
                                now: datetime) -> bool:
    """Attach an identifier unless someone already holds it; True when attached. A phone
    number outside the metadata's known ranges is attached flagged unverified."""
    verified = kind != "phone" or is_verified(value)
    values = {"person_id": person_id, "kind": kind, "value": value, "verified": verified,
              "created_at": now}
    return await inserted(session, PersonIdentifier, values)


async def flag_possible_match(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert_ignore(session, PossibleMatch, values))


async def open_possible_matches(session: AsyncSession) -> Sequence[PossibleMatch]:
    stmt = select(PossibleMatch).where(PossibleMatch.status == "open")
    return (await session.scalars(stmt.order_by(PossibleMatch.created_at))).all()


async def get_possible_match(session: AsyncSession, match_id: str) -> PossibleMatch | None:
    return await session.get(PossibleMatch, match_id)


async def matches_between(session: AsyncSession, a: str, b: str) -> Sequence[PossibleMatch]:
    stmt = select(PossibleMatch).where(
        ((PossibleMatch.person_id == a) & (PossibleMatch.candidate_id == b))
        | ((PossibleMatch.person_id == b) & (PossibleMatch.candidate_id == a)))
    return (await session.scalars(stmt)).all()


async def move_person(session: AsyncSession, source: str, target: str) -> None:
    """Re-point everything of `source` at `target` (a merge)."""
    for model in (PersonIdentifier, Contact, ReferralLink, Callback):
        col = model.person_id
        await session.execute(update(model).where(col == source).values(person_id=target))
    await session.execute(update(Person).where(Person.merged_into == source)
                          .values(merged_into=target))
