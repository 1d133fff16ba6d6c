"""The callback list: the people the line owes a call back, and the steps staff take on it.

Two ways in, one list: staff keys (`/api/v1/callbacks`, the actor is the key) and people
signed in to the desk's board (`/api/v1/desk/board/callbacks`, the actor is the account).
Every step is a `callback_attempt` row with who took it, and audited; a closed callback takes
no more steps (409). Taking a callback is an attempt of outcome `taken`, a close from the
board `closed:<reason>`, so the log tells who did what and when without a column more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import Conflict, NotFound
from services.intake import repository
from services.intake.models import AuditEntry, Callback, CallbackAttempt, Contact

CLOSING = frozenset({"reached", "closed"})  # a staff key's outcomes that close a callback
TAKEN = "taken"


async def open_list(session: AsyncSession, actor: Actor, limit: int,
                    now: datetime) -> Sequence[Callback]:
    """Open callbacks, highest risk first, then the earliest deadline (the read audited)."""
    found = await repository.open_callbacks(session, limit)
    audit(session, AuditEntry, actor, "read_list", "callback", "open", now)
    return found


async def read(session: AsyncSession, callback_id: str, actor: Actor,
               now: datetime) -> Callback:
    """One callback (the read audited)."""
    callback = await repository.get_callback(session, callback_id)
    if callback is None:
        raise NotFound("callback")
    audit(session, AuditEntry, actor, "read", "callback", callback.id, now)
    return callback


async def reach_of(session: AsyncSession,
                   callbacks: Sequence[Callback]) -> dict[str, Contact]:
    """The contact each callback came from (how to reach the person back), by contact id."""
    return await repository.contacts_by_id(session, {c.contact_id for c in callbacks})


async def _open_for_step(session: AsyncSession, callback_id: str) -> Callback:
    callback = await repository.get_callback(session, callback_id, for_update=True)
    if callback is None:
        raise NotFound("callback")
    if callback.status != "open":
        raise Conflict("This callback is already closed.", slug="callback-closed")
    return callback


def _step(session: AsyncSession, callback: Callback, outcome: str, by: str | None,
          actor: Actor, now: datetime, *, counts: bool, closes: bool) -> None:
    session.add(CallbackAttempt(callback_id=callback.id, at=now, outcome=outcome,
                                actor_key_id=by))
    if counts:
        callback.attempts += 1
    if closes:
        callback.status, callback.closed_at = "done", now
    audit(session, AuditEntry, actor, f"callback_{outcome}", "callback", callback.id, now)


async def log_attempt(session: AsyncSession, callback_id: str, outcome: str, actor: Actor,
                      now: datetime) -> Callback:
    """A staff key's try at calling back: `reached` or `closed` closes the callback."""
    callback = await _open_for_step(session, callback_id)
    _step(session, callback, outcome, actor.key_id, actor, now, counts=True,
          closes=outcome in CLOSING)
    await session.flush()
    return callback


async def attempts_of(session: AsyncSession, callback_id: str) -> Sequence[CallbackAttempt]:
    return await repository.attempts_of(session, callback_id)


# The desk's board


@dataclass(frozen=True)
class Lane:
    """The board's open callbacks, how many there are in all and since when the oldest."""

    count: int
    oldest_at: datetime | None
    callbacks: Sequence[Callback]
    contacts: dict[str, Contact]
    steps: dict[str, tuple[CallbackAttempt | None, CallbackAttempt | None]]


async def board_lane(session: AsyncSession, actor: Actor, limit: int, now: datetime) -> Lane:
    """Open callbacks by risk, then wait, each with its contact and its latest steps (the
    read audited)."""
    count, oldest = await repository.open_callback_count(session)
    rows = await repository.open_callbacks(session, limit)
    contacts = await reach_of(session, rows)
    steps = _latest_steps(await repository.attempts_of_callbacks(session, [c.id for c in rows]))
    audit(session, AuditEntry, actor, "board_list", "callback", "open", now)
    return Lane(count, oldest, rows, contacts, steps)


def _latest_steps(attempts: Sequence[CallbackAttempt],
                  ) -> dict[str, tuple[CallbackAttempt | None, CallbackAttempt | None]]:
    """Per callback: its latest attempt that is not a take, and its latest take."""
    out: dict[str, tuple[CallbackAttempt | None, CallbackAttempt | None]] = {}
    for a in attempts:
        last, taken = out.get(a.callback_id, (None, None))
        out[a.callback_id] = (last, a) if a.outcome == TAKEN else (a, taken)
    return out


async def board_attempt(session: AsyncSession, callback_id: str, outcome: str, actor: Actor,
                        now: datetime) -> Callback:
    """A call back tried from the board: `reached` closes it, the rest keep it there."""
    callback = await _open_for_step(session, callback_id)
    _step(session, callback, outcome, actor.person_id, actor, now, counts=True,
          closes=outcome == "reached")
    return callback


async def take(session: AsyncSession, callback_id: str, actor: Actor,
               now: datetime) -> Callback:
    """I will call this person back: every board shows who took it and when."""
    callback = await _open_for_step(session, callback_id)
    _step(session, callback, TAKEN, actor.person_id, actor, now, counts=False, closes=False)
    return callback


async def close(session: AsyncSession, callback_id: str, reason: str, actor: Actor,
                now: datetime) -> Callback:
    """Close a contact that needs nothing from the line, with the reason."""
    callback = await _open_for_step(session, callback_id)
    _step(session, callback, f"closed:{reason}", actor.person_id, actor, now, counts=False,
          closes=True)
    return callback
