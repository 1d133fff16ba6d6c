"""Contacts (calls, texts, emails, website messages): one row each, and the new calls the call
book writes many at a time on its own connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.common.db import insert_for
from services.intake.models import Contact, Person, PersonIdentifier
from services.intake.repository.rows import inserted


async def insert_contact_if_new(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Add a contact unless (channel, external_id) is already stored; True when added."""
    return await inserted(session, Contact, values)


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
