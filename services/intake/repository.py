"""Every query of the intake service (no commits: the request, the outbox handler or the call
book's unit of work owns the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, Row, Select, desc, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.common.db import insert_for
from services.common.phone import is_verified
from services.intake.models import (
    Callback,
    CallbackAttempt,
    Contact,
    OutboxMessage,
    Person,
    PersonIdentifier,
    PossibleMatch,
    ReferralLink,
    SmsPreference,
)


def _insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on either backend: one round trip, no savepoint."""
    stmt = insert_for(session.get_bind().dialect.name, model).values(**values)
    return stmt.on_conflict_do_nothing()


async def _inserted(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """Insert unless a unique key is taken; True when this call wrote the row.

    RETURNING rather than rowcount: after waiting on a concurrent writer's conflicting row,
    the driver's rowcount is not reliable, a returned row is.
    """
    pk = next(iter(model.__table__.primary_key.columns))
    stmt = _insert_ignore(session, model, values).returning(pk)
    return (await session.execute(stmt)).first() is not None


async def insert_contact_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Add a contact unless (channel, external_id) is already stored; True when added."""
    return await _inserted(session, Contact, values)


async def contact_by_external(session: AsyncSession, channel: str,
                              external_id: str) -> Contact | None:
    stmt = select(Contact).where(Contact.channel == channel, Contact.external_id == external_id)
    return (await session.scalars(stmt)).first()


async def get_contact(session: AsyncSession, contact_id: str) -> Contact | None:
    return await session.get(Contact, contact_id)


async def contacts_by_id(session: AsyncSession, ids: set[str]) -> dict[str, Contact]:
    if not ids:
        return {}
    found = await session.scalars(select(Contact).where(Contact.id.in_(ids)))
    return {c.id: c for c in found}


async def contacts_for_reference(session: AsyncSession, reference: str) -> Sequence[Contact]:
    stmt = select(Contact).where(Contact.reference == reference).order_by(Contact.created_at)
    return (await session.scalars(stmt)).all()


async def contact_by_message_id(session: AsyncSession, message_id: str) -> Contact | None:
    """The email contact that was, or was acknowledged by, this Message-ID."""
    stmt = select(Contact).where(
        (Contact.ack_message_id == message_id)
        | ((Contact.channel == "email") & (Contact.external_id == message_id)))
    return (await session.scalars(stmt)).first()


async def set_contact(session: AsyncSession, contact_id: str, **values: Any) -> None:
    await session.execute(update(Contact).where(Contact.id == contact_id).values(**values))


# New calls (the call book's group commit: a connection, not a session, and many calls a
# statement)

# The person-index lookup joined to the insert; a CallSid recorded before returns nothing and
# is looked up after. Both are one statement over arrays, the same text whatever the batch
# size, so PostgreSQL keeps them prepared.
_PG_RECORD_CALLS = text("""
    INSERT INTO contact (id, channel, external_id, person_id, from_address, from_raw,
                         from_verified, crisis, created_at, updated_at)
    SELECT v.id, 'voice', v.sid, pi.person_id, v.phone, v.raw, v.verified, false, v.at, v.at
    FROM unnest(CAST(:ids AS varchar[]), CAST(:sids AS varchar[]), CAST(:phones AS varchar[]),
                CAST(:raws AS varchar[]), CAST(:verified AS boolean[]),
                CAST(:ats AS timestamptz[])) AS v(id, sid, phone, raw, verified, at)
    LEFT JOIN person_identifier pi ON pi.kind = 'phone' AND pi.value = v.phone
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING external_id, person_id""")
_PG_EARLIER_CALLS = text("""
    SELECT external_id, person_id FROM contact
    WHERE channel = 'voice' AND external_id = ANY(CAST(:sids AS varchar[]))""")
_SQLITE_ADD_CALLS = (insert_for("sqlite", Contact).on_conflict_do_nothing()
                     .returning(Contact.external_id))


async def add_calls_pg(conn: AsyncConnection, rows: Sequence[dict[str, Any]]
                       ) -> dict[str, str | None]:
    """PostgreSQL: insert the voice contacts not held yet, each with the person its number
    belongs to; {CallSid: person id} of those this statement added."""
    found = await conn.execute(_PG_RECORD_CALLS, {
        "ids": [r["id"] for r in rows], "sids": [r["external_id"] for r in rows],
        "phones": [r["from_address"] for r in rows], "raws": [r["from_raw"] for r in rows],
        "verified": [r["from_verified"] for r in rows],
        "ats": [r["created_at"] for r in rows]})
    return {sid: person for sid, person in found}


async def earlier_calls_pg(conn: AsyncConnection, sids: Sequence[str]) -> dict[str, str | None]:
    """PostgreSQL: {CallSid: person id} of voice contacts recorded before (Twilio retried)."""
    found = await conn.execute(_PG_EARLIER_CALLS, {"sids": list(sids)})
    return {sid: person for sid, person in found}


async def people_by_phone(conn: AsyncConnection, phones: set[str]) -> dict[str, str]:
    """{E.164 number: person id} of the numbers the person index holds."""
    if not phones:
        return {}
    found = await conn.execute(
        select(PersonIdentifier.value, PersonIdentifier.person_id)
        .where(PersonIdentifier.kind == "phone", PersonIdentifier.value.in_(phones)))
    return {value: person_id for value, person_id in found}


async def add_calls(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """SQLite: insert the voice contacts not held yet; the CallSids this statement added."""
    return set((await conn.execute(_SQLITE_ADD_CALLS, list(rows))).scalars())


# People


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


async def story_contacts(session: AsyncSession, person_id: str, *, body_chars: int,
                         limit: int) -> Sequence[Row[tuple[Any, ...]]]:
    """The person's contacts and those of the records merged into theirs, newest first: only
    the columns a story shows, the body cut to `body_chars`."""
    # The merged records first, then one `IN` on the indexed person_id: an `OR` with a
    # subquery made PostgreSQL walk every contact newest first until it had found theirs.
    # Only the columns shown are read (not whole contacts: a page of 200 is read often).
    merged = await session.scalars(select(Person.id).where(Person.merged_into == person_id))
    stmt = (select(Contact.created_at, Contact.channel, Contact.reference, Contact.outcome,
                   Contact.crisis, Contact.subject,
                   func.substr(Contact.body, 1, body_chars).label("body"))
            .where(Contact.person_id.in_([person_id, *merged]))
            .order_by(Contact.created_at.desc()).limit(limit))
    return (await session.execute(stmt)).all()


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
    return await _inserted(session, PersonIdentifier, values)


async def flag_possible_match(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(_insert_ignore(session, PossibleMatch, values))


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


# Referrals intake knows of


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


async def add_link_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await _inserted(session, ReferralLink, values)


# Callbacks


async def add_callback_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    """One callback per contact and reason, however often a status callback repeats."""
    return await _inserted(session, Callback, values)


async def open_crisis_callback(session: AsyncSession, person_id: str) -> Callback | None:
    stmt = select(Callback).where(Callback.person_id == person_id, Callback.status == "open",
                                  Callback.risk == "crisis")
    return (await session.scalars(stmt.limit(1))).first()


async def outbox_key_taken(session: AsyncSession, key: str) -> bool:
    """Whether an outbox row with this idempotency key exists (written or pending here)."""
    await session.flush()
    stmt = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    return (await session.scalar(stmt)) is not None


async def open_callbacks(session: AsyncSession, limit: int) -> Sequence[Callback]:
    """The callback queue: highest risk first, then the earliest deadline."""
    stmt = (select(Callback).where(Callback.status == "open")
            .order_by(Callback.risk_rank, Callback.due_at, Callback.id).limit(limit))
    return (await session.scalars(stmt)).all()


async def get_callback(session: AsyncSession, callback_id: str,
                       *, for_update: bool = False) -> Callback | None:
    stmt = select(Callback).where(Callback.id == callback_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def open_callback_count(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many callbacks are open, and when the oldest was made."""
    count, oldest = (await session.execute(
        select(func.count(), func.min(Callback.created_at)).where(Callback.status == "open"))
    ).one()
    return int(count), oldest


async def attempts_of_callbacks(session: AsyncSession,
                                ids: Sequence[str]) -> Sequence[CallbackAttempt]:
    """Every step on these callbacks, oldest first."""
    if not ids:
        return []
    stmt = (select(CallbackAttempt).where(CallbackAttempt.callback_id.in_(ids))
            .order_by(CallbackAttempt.at, CallbackAttempt.id))
    return (await session.scalars(stmt)).all()


async def attempts_of(session: AsyncSession, callback_id: str) -> Sequence[CallbackAttempt]:
    stmt = select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
    return (await session.scalars(stmt.order_by(CallbackAttempt.at, CallbackAttempt.id))).all()


# SMS preferences


async def is_opted_out(session: AsyncSession, phone: str) -> bool:
    pref = await session.get(SmsPreference, phone)
    return bool(pref and pref.opted_out)


async def set_opt_out(session: AsyncSession, phone: str, opted_out: bool, now: datetime) -> None:
    values = {"phone": phone, "opted_out": opted_out, "updated_at": now}
    stmt = insert_for(session.get_bind().dialect.name, SmsPreference).values(**values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["phone"], set_={"opted_out": opted_out, "updated_at": now}))
