"""The Hub board's handoffs and alerts, for coordinators and admins signed in to the desk
(key workers and keys get 403): handoffs nobody has answered with where each is in its
escalation, and open alerts with Acknowledge (who and when, shown on every open board).
References, urgencies and key worker ids only, nothing about a person: the read, polled every
few seconds, writes no audit entry; an acknowledgement does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.notify import board as notify_board
from services.notify.deps import NotifyDep
from services.notify.models import Alert

router = APIRouter(prefix="/api/v1/desk/board", include_in_schema=False)


class BoardHandoff(BaseModel):
    reference: str
    urgency: str
    respond_by: datetime
    offered_at: datetime
    offer: int
    keyworker_id: str
    last_step: str | None
    last_channel: str | None
    last_step_at: datetime | None
    next_step: str | None
    next_step_at: datetime | None


class BoardAlert(BaseModel):
    id: str
    kind: str
    reference: str | None
    urgency: str | None
    respond_by: datetime | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class HandoffLane(BaseModel):
    count: int
    oldest_at: datetime | None
    items: list[BoardHandoff]


class AlertLane(BaseModel):
    count: int
    oldest_at: datetime | None
    items: list[BoardAlert]


class NotifyBoard(BaseModel):
    handoffs: HandoffLane
    alerts: AlertLane
    acknowledged: list[BoardAlert]


@router.get("", response_model=NotifyBoard)
async def board(session: SessionDep, _: CoordinatorDep, own: NotifyDep, clock: ClockDep,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> NotifyBoard:
    now = clock.now()
    b = await notify_board.read(session, own, now, limit)
    return NotifyBoard(
        handoffs=HandoffLane(count=b.handoffs_open, oldest_at=b.oldest_handoff_at,
                             items=[_handoff(w) for w in b.handoffs]),
        alerts=AlertLane(count=b.alerts_open, oldest_at=b.oldest_alert_at,
                         items=[_alert(a) for a in b.alerts]),
        acknowledged=[_alert(a) for a in b.acknowledged])


def _handoff(w: notify_board.WaitingHandoff) -> BoardHandoff:
    h, step = w.handoff, w.last
    return BoardHandoff(
        reference=h.reference, urgency=h.urgency, respond_by=h.respond_by,
        offered_at=h.created_at, offer=h.offer, keyworker_id=h.keyworker_id,
        last_step=step.step if step else None, last_channel=step.channel if step else None,
        last_step_at=step.at if step else None,
        next_step=w.next_step.action if w.next_step else None, next_step_at=w.next_step_at)


def _alert(a: Alert) -> BoardAlert:
    return BoardAlert(id=a.id, kind=a.kind, reference=a.reference, urgency=a.urgency,
                      respond_by=a.respond_by, created_at=a.created_at,
                      acknowledged_at=a.acknowledged_at, acknowledged_by=a.acknowledged_by)


@router.post("/alerts/{alert_id}/acknowledge", response_model=BoardAlert)
async def acknowledge(alert_id: str, session: SessionDep, actor: CoordinatorDep,
                      clock: ClockDep) -> BoardAlert:
    """I have seen this alert and am dealing with it. A second acknowledgement keeps the
    first one's who and when (two coordinators pressing at once see the same answer)."""
    return _alert(await notify_board.acknowledge(session, actor, alert_id, clock.now()))
