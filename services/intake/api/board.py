"""The Hub board's callbacks for coordinators and admins signed in to the desk: the queue
with its clock, who has taken each one, and the steps on it (an attempt and its outcome,
taking it, closing one that needs nothing with a reason). Key workers and keys get 403.

Attempts are rows of `callback_attempt` with the account id in `actor_key_id`: taking a
callback is an attempt of outcome `taken`, a close `closed:<reason>`, so the log tells who
did what and when without a column more."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from services.common.audit import audit
from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import Conflict, NotFound
from services.intake import repository
from services.intake.models import AuditEntry, Callback, CallbackAttempt

router = APIRouter(prefix="/api/v1/desk/board/callbacks", include_in_schema=False)
TAKEN = "taken"
CLOSE_REASONS = {"no_need": "Needs nothing from us", "duplicate": "Duplicate of another contact",
                 "elsewhere": "Handled elsewhere", "mistake": "Made by mistake or a test"}


class BoardCallback(BaseModel):
    id: str
    channel: str
    reason: str
    risk: str
    reference: str | None
    reach: str | None
    created_at: datetime
    due_at: datetime
    attempts: int
    last_outcome: str | None
    taken_by: str | None
    taken_at: datetime | None


class CallbackLane(BaseModel):
    count: int
    oldest_at: datetime | None
    items: list[BoardCallback]


class BoardAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "no_answer", "voicemail", "wrong_number"]


class BoardClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["no_need", "duplicate", "elsewhere", "mistake"]


@router.get("", response_model=CallbackLane)
async def lane(session: SessionDep, actor: CoordinatorDep, clock: ClockDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> CallbackLane:
    """Open callbacks by risk, then wait; how many there are and since when the oldest."""
    count, oldest = (await session.execute(
        select(func.count(), func.min(Callback.created_at)).where(Callback.status == "open"))
    ).one()
    rows = await repository.open_callbacks(session, limit)
    contacts = await repository.contacts_by_id(session, {c.contact_id for c in rows})
    log = await _latest_steps(session, [c.id for c in rows])
    audit(session, AuditEntry, actor, "board_list", "callback", "open", clock.now())
    items = []
    for c in rows:
        contact = contacts.get(c.contact_id)
        last, taken = log.get(c.id, (None, None))
        items.append(BoardCallback(
            id=c.id, channel=c.channel, reason=c.reason, risk=c.risk, reference=c.reference,
            reach=contact.from_address if contact is not None else None,
            created_at=c.created_at, due_at=c.due_at, attempts=c.attempts,
            last_outcome=last.outcome if last else None,
            taken_by=taken.actor_key_id if taken else None,
            taken_at=taken.at if taken else None))
    return CallbackLane(count=count, oldest_at=oldest, items=items)


async def _latest_steps(session: SessionDep, ids: list[str],
                        ) -> dict[str, tuple[CallbackAttempt | None, CallbackAttempt | None]]:
    """Per callback: its latest attempt that is not a take, and its latest take."""
    if not ids:
        return {}
    stmt = (select(CallbackAttempt).where(CallbackAttempt.callback_id.in_(ids))
            .order_by(CallbackAttempt.at, CallbackAttempt.id))
    out: dict[str, tuple[CallbackAttempt | None, CallbackAttempt | None]] = {}
    for a in await session.scalars(stmt):
        last, taken = out.get(a.callback_id, (None, None))
        out[a.callback_id] = (last, a) if a.outcome == TAKEN else (a, taken)
    return out


async def _open(session: SessionDep, callback_id: str) -> Callback:
    callback = await repository.get_callback(session, callback_id, for_update=True)
    if callback is None:
        raise NotFound("callback")
    if callback.status != "open":
        raise Conflict("This callback is already closed.", slug="callback-closed")
    return callback


def _step(session: SessionDep, callback: Callback, outcome: str, actor: CoordinatorDep,
          now: datetime, closes: bool) -> None:
    session.add(CallbackAttempt(callback_id=callback.id, at=now, outcome=outcome,
                                actor_key_id=actor.person_id))
    if closes:
        callback.status, callback.closed_at = "done", now
    audit(session, AuditEntry, actor, f"callback_{outcome}", "callback", callback.id, now)


@router.post("/{callback_id}/attempts", status_code=status.HTTP_201_CREATED)
async def attempt(callback_id: str, body: BoardAttempt, session: SessionDep,
                  actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """A call back tried: `reached` closes the callback, the rest keep it on the board."""
    callback = await _open(session, callback_id)
    callback.attempts += 1
    _step(session, callback, body.outcome, actor, clock.now(), body.outcome == "reached")
    return {"status": callback.status}


@router.post("/{callback_id}/take", status_code=status.HTTP_201_CREATED)
async def take(callback_id: str, session: SessionDep, actor: CoordinatorDep,
               clock: ClockDep) -> dict[str, str]:
    """I will call this person back: every board shows who took it and when."""
    callback = await _open(session, callback_id)
    _step(session, callback, TAKEN, actor, clock.now(), False)
    return {"status": callback.status}


@router.post("/{callback_id}/close")
async def close(callback_id: str, body: BoardClose, session: SessionDep,
                actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """Close a contact that needs nothing from the line, with the reason."""
    callback = await _open(session, callback_id)
    _step(session, callback, f"closed:{body.reason}", actor, clock.now(), True)
    return {"status": callback.status}
