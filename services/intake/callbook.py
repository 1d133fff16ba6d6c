"""Recording new calls: the voice line's first write, group-committed.

Every call is recorded before the greeting is answered (so a call is never lost), but calls
arriving together share one transaction: one person-index lookup for all their numbers and one
multi-row `INSERT … ON CONFLICT DO NOTHING` (a repeated `CallSid` is recorded once). The
statements are the repository's (`repository.add_calls…`); this module owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.db import Database
from services.common.groupcommit import GroupCommit
from services.intake import repository


@dataclass(frozen=True, slots=True)
class Recorded:
    person_id: str | None
    added: bool  # False when this CallSid was recorded before (a Twilio retry)


class CallBook:
    """`record(values)` stores one new voice contact; concurrent calls commit together."""

    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self._db = db
        self._commit: GroupCommit[dict[str, Any], Recorded] = GroupCommit(
            "intake.calls", self._write, max_batch=max_batch)

    async def record(self, values: dict[str, Any]) -> Recorded:
        return await self._commit.submit(values)

    async def close(self) -> None:
        await self._commit.close()

    async def _write(self, rows: Sequence[dict[str, Any]]) -> list[Recorded]:
        """Unit of work: the new calls of one batch, committed together in a transaction of
        their own. The greeting must not wait for a request session (there is none on the
        first answer) nor pay one commit per call: under a surge of calls one commit for all
        is what keeps the first answer fast (docs/benchmarks.md, the voice line)."""
        if self._db.dialect == "postgresql":
            return await self._write_pg(rows)
        async with self._db.engine.begin() as conn:
            known = await repository.people_by_phone(
                conn, {r["from_address"] for r in rows if r["from_address"]})
            values = [{**r, "person_id": known.get(r["from_address"] or "")} for r in rows]
            inserted = await repository.add_calls(conn, values)
        out: list[Recorded] = []
        for row in values:
            sid = row["external_id"]
            out.append(Recorded(row["person_id"], sid in inserted))
            inserted.discard(sid)  # the same CallSid twice in one batch: only the first added
        return out

    async def _write_pg(self, rows: Sequence[dict[str, Any]]) -> list[Recorded]:
        """Unit of work: as `_write`; on PostgreSQL the lookup is joined to the insert, one
        statement for the batch (and one more only when Twilio retried a call held already)."""
        sids = [r["external_id"] for r in rows]
        async with self._db.engine.begin() as conn:
            added = await repository.add_calls_pg(conn, rows)
            earlier: dict[str, str | None] = {}
            if len(added) < len(set(sids)):  # Twilio retried a call we hold already
                earlier = await repository.earlier_calls_pg(
                    conn, [s for s in sids if s not in added])
        out: list[Recorded] = []
        for sid in sids:
            if sid in added:
                out.append(Recorded(added.pop(sid), True))  # the same CallSid twice: one added
            else:
                out.append(Recorded(earlier.get(sid), False))
        return out
