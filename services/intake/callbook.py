"""Recording new calls: the voice line's first write, group-committed.

Every call is recorded before the greeting is answered (so a call is never lost), but calls
arriving together share one transaction: one person-index lookup for all their numbers and one
multi-row `INSERT … ON CONFLICT DO NOTHING` (a repeated `CallSid` is recorded once). On
PostgreSQL both are one statement over arrays, the same text whatever the batch size, so the
server keeps it prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from services.common.db import Database, insert_for
from services.common.groupcommit import GroupCommit
from services.intake.models import Contact, PersonIdentifier

# The lookup joined to the insert; a CallSid recorded before returns nothing and is looked up.
_PG_RECORD = text("""
    INSERT INTO contact (id, channel, external_id, person_id, from_address, from_raw,
                         from_verified, crisis, created_at, updated_at)
    SELECT v.id, 'voice', v.sid, pi.person_id, v.phone, v.raw, v.verified, false, v.at, v.at
    FROM unnest(CAST(:ids AS varchar[]), CAST(:sids AS varchar[]), CAST(:phones AS varchar[]),
                CAST(:raws AS varchar[]), CAST(:verified AS boolean[]),
                CAST(:ats AS timestamptz[])) AS v(id, sid, phone, raw, verified, at)
    LEFT JOIN person_identifier pi ON pi.kind = 'phone' AND pi.value = v.phone
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING external_id, person_id""")
_PG_EARLIER = text("""
    SELECT external_id, person_id FROM contact
    WHERE channel = 'voice' AND external_id = ANY(CAST(:sids AS varchar[]))""")


@dataclass(frozen=True, slots=True)
class Recorded:
    person_id: str | None
    added: bool  # False when this CallSid was recorded before (a Twilio retry)


class CallBook:
    """`record(values)` stores one new voice contact; concurrent calls commit together."""

    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self._db = db
        self._insert = (insert_for(db.dialect, Contact).on_conflict_do_nothing()
                        .returning(Contact.external_id))
        self._commit: GroupCommit[dict[str, Any], Recorded] = GroupCommit(
            "intake.calls", self._write, max_batch=max_batch)

    async def record(self, values: dict[str, Any]) -> Recorded:
        return await self._commit.submit(values)

    async def close(self) -> None:
        await self._commit.close()

    async def _write(self, rows: Sequence[dict[str, Any]]) -> list[Recorded]:
        if self._db.dialect == "postgresql":
            return await self._write_pg(rows)
        phones = {r["from_address"] for r in rows if r["from_address"]}
        async with self._db.engine.begin() as conn:
            known: dict[str, str] = {}
            if phones:
                found = await conn.execute(
                    select(PersonIdentifier.value, PersonIdentifier.person_id)
                    .where(PersonIdentifier.kind == "phone", PersonIdentifier.value.in_(phones)))
                known = {value: person_id for value, person_id in found}
            values = [{**r, "person_id": known.get(r["from_address"] or "")} for r in rows]
            inserted = set((await conn.execute(self._insert, values)).scalars())
        out: list[Recorded] = []
        for row in values:
            sid = row["external_id"]
            out.append(Recorded(row["person_id"], sid in inserted))
            inserted.discard(sid)  # the same CallSid twice in one batch: only the first added
        return out

    async def _write_pg(self, rows: Sequence[dict[str, Any]]) -> list[Recorded]:
        sids = [r["external_id"] for r in rows]
        async with self._db.engine.begin() as conn:
            added = {sid: person for sid, person in await conn.execute(_PG_RECORD, {
                "ids": [r["id"] for r in rows], "sids": sids,
                "phones": [r["from_address"] for r in rows],
                "raws": [r["from_raw"] for r in rows],
                "verified": [r["from_verified"] for r in rows],
                "ats": [r["created_at"] for r in rows]})}
            earlier: dict[str, str | None] = {}
            if len(added) < len(set(sids)):  # Twilio retried a call we hold already
                earlier = {sid: person for sid, person in await conn.execute(
                    _PG_EARLIER, {"sids": [s for s in sids if s not in added]})}
        out: list[Recorded] = []
        for sid in sids:
            if sid in added:
                out.append(Recorded(added.pop(sid), True))  # the same CallSid twice: one added
            else:
                out.append(Recorded(earlier.get(sid), False))
        return out
