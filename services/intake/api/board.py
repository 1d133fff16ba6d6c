"""The Hub board's callbacks for coordinators and admins signed in to the desk: the queue
with its clock, who has taken each one, and the steps on it (an attempt and its outcome,
taking it, closing one that needs nothing with a reason). Key workers and keys get 403.
The steps themselves are `services.intake.callbacks`'."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.intake import callbacks

router = APIRouter(prefix="/api/v1/desk/board/callbacks", include_in_schema=False)
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
    found = await callbacks.board_lane(session, actor, limit, clock.now())
    items = []
    for c in found.callbacks:
        contact = found.contacts.get(c.contact_id)
        last, taken = found.steps.get(c.id, (None, None))
        items.append(BoardCallback(
            id=c.id, channel=c.channel, reason=c.reason, risk=c.risk, reference=c.reference,
            reach=contact.from_address if contact is not None else None,
            created_at=c.created_at, due_at=c.due_at, attempts=c.attempts,
            last_outcome=last.outcome if last else None,
            taken_by=taken.actor_key_id if taken else None,
            taken_at=taken.at if taken else None))
    return CallbackLane(count=found.count, oldest_at=found.oldest_at, items=items)


@router.post("/{callback_id}/attempts", status_code=status.HTTP_201_CREATED)
async def attempt(callback_id: str, body: BoardAttempt, session: SessionDep,
                  actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """A call back tried: `reached` closes the callback, the rest keep it on the board."""
    callback = await callbacks.board_attempt(session, callback_id, body.outcome, actor,
                                             clock.now())
    return {"status": callback.status}


@router.post("/{callback_id}/take", status_code=status.HTTP_201_CREATED)
async def take(callback_id: str, session: SessionDep, actor: CoordinatorDep,
               clock: ClockDep) -> dict[str, str]:
    """I will call this person back: every board shows who took it and when."""
    callback = await callbacks.take(session, callback_id, actor, clock.now())
    return {"status": callback.status}


@router.post("/{callback_id}/close")
async def close(callback_id: str, body: BoardClose, session: SessionDep,
                actor: CoordinatorDep, clock: ClockDep) -> dict[str, str]:
    """Close a contact that needs nothing from the line, with the reason."""
    callback = await callbacks.close(session, callback_id, body.reason, actor, clock.now())
    return {"status": callback.status}
