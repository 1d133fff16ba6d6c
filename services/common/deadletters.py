"""Dead letters: outbox rows a relay gave up on, listed and re-queued by `livewell deadletters`.

A row is named `<service>:<id>` (each service has its own outbox). Listing shows where a row
was going, how it failed and the ids it carried, never the payload itself (it may hold a
person's details). A replay makes the row due now with its run of failures cleared, once: a
row that is not dead (never was, or already replayed and waiting) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from services.common.db import Database
from services.common.kit_models import OutboxMixin


@dataclass(frozen=True, slots=True)
class DeadLetter:
    name: str  # `<service>:<id>`
    target: str
    path: str
    key: str
    attempts: int
    last_error: str | None
    created_at: datetime
    dead_at: datetime


def parse_name(name: str) -> tuple[str, int]:
    """`intake:42` → ("intake", 42); ValueError when it is not that shape."""
    service, _, row_id = name.partition(":")
    if not service or not row_id.isdigit():
        raise ValueError(f"{name!r} is not a dead letter's name (service:id, e.g. intake:42)")
    return service, int(row_id)


async def list_dead(db: Database, model: type[OutboxMixin], service: str,
                    limit: int = 500) -> list[DeadLetter]:
    """The service's dead letters, newest first."""
    m = model
    stmt = (select(m).where(m.dead_at.is_not(None), m.delivered_at.is_(None))
            .order_by(m.dead_at.desc(), m.id.desc()).limit(limit))
    async with db.sessionmaker() as session:
        rows = (await session.scalars(stmt)).all()
    return [DeadLetter(f"{service}:{r.id}", r.target, r.path, r.idempotency_key, r.attempts,
                       r.last_error, r.created_at, r.dead_at) for r in rows if r.dead_at]


async def replay(db: Database, model: type[OutboxMixin], row_id: int, now: datetime) -> bool:
    """Re-queue one dead letter now; False when there is no dead letter of that id."""
    m = model
    async with db.sessionmaker() as session, session.begin():
        result = await session.execute(
            update(m).where(m.id == row_id, m.dead_at.is_not(None), m.delivered_at.is_(None))
            .values(dead_at=None, failures=0, next_attempt_at=now, locked_until=None))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def as_json(letter: DeadLetter) -> dict[str, Any]:
    return {"id": letter.name, "target": letter.target, "path": letter.path,
            "key": letter.key, "attempts": letter.attempts, "last_error": letter.last_error,
            "created_at": letter.created_at.isoformat(), "dead_at": letter.dead_at.isoformat()}
