"""The Hub board's handoffs and alerts, for coordinators and admins signed in to the desk
(key workers and keys get 403): handoffs nobody has answered with where each is in its
escalation, and open alerts with Acknowledge (who and when, shown on every open board).
References, urgencies and key worker ids only, nothing about a person: the read, polled every
few seconds, writes no audit entry; an acknowledgement does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import case, func, select

from services.common.audit import audit
from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import NotFound
from services.notify.deps import NotifyDep
from services.notify.models import OPEN, Alert, AuditEntry, Handoff, TimelineEntry

router = APIRouter(prefix="/api/v1/desk/board", include_in_schema=False)
# Acknowledged alerts stay on the board this long, saying by whom and when.
RECENTLY = timedelta(hours=12)


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
    count, oldest = (await session.execute(select(func.count(), func.min(Handoff.created_at))
                                           .where(Handoff.status == OPEN))).one()
    handoffs = (await session.scalars(select(Handoff).where(Handoff.status == OPEN)
                                      .order_by(Handoff.respond_by, Handoff.id)
                                      .limit(limit))).all()
    last = await _last_steps(session, [h.id for h in handoffs])
    items = []
    for h in handoffs:
        step = last.get(h.id)
        after = (now - h.created_at).total_seconds()
        upcoming = [s for _, s in own.policy.steps(h.urgency, h.offer) if s.after > after]
        items.append(BoardHandoff(
            reference=h.reference, urgency=h.urgency, respond_by=h.respond_by,
            offered_at=h.created_at, offer=h.offer, keyworker_id=h.keyworker_id,
            last_step=step.step if step else None,
            last_channel=step.channel if step else None, last_step_at=step.at if step else None,
            next_step=upcoming[0].action if upcoming else None,
            next_step_at=h.created_at + timedelta(seconds=upcoming[0].after)
            if upcoming else None))
    open_alerts = Alert.acknowledged_at.is_(None)
    a_count, a_oldest = (await session.execute(
        select(func.count(), func.min(Alert.created_at)).where(open_alerts))).one()
    # Crisis contacts first, then the newest: what just happened is what needs a decision.
    alerts = (await session.scalars(
        select(Alert).where(open_alerts)
        .order_by(case((Alert.kind == "crisis", 0), else_=1), Alert.created_at.desc(),
                  Alert.id).limit(limit))).all()
    done = (await session.scalars(
        select(Alert).where(Alert.acknowledged_at >= now - RECENTLY)
        .order_by(Alert.acknowledged_at.desc()).limit(20))).all()
    return NotifyBoard(
        handoffs=HandoffLane(count=count, oldest_at=oldest, items=items),
        alerts=AlertLane(count=a_count, oldest_at=a_oldest,
                                items=[_alert(a) for a in alerts]),
        acknowledged=[_alert(a) for a in done])


def _alert(a: Alert) -> BoardAlert:
    return BoardAlert(id=a.id, kind=a.kind, reference=a.reference, urgency=a.urgency,
                      respond_by=a.respond_by, created_at=a.created_at,
                      acknowledged_at=a.acknowledged_at, acknowledged_by=a.acknowledged_by)


async def _last_steps(session: SessionDep, ids: list[str]) -> dict[str, TimelineEntry]:
    if not ids:
        return {}
    stmt = (select(TimelineEntry).where(TimelineEntry.handoff_id.in_(ids))
            .order_by(TimelineEntry.at, TimelineEntry.id))
    return {t.handoff_id: t for t in await session.scalars(stmt)}


@router.post("/alerts/{alert_id}/acknowledge", response_model=BoardAlert)
async def acknowledge(alert_id: str, session: SessionDep, actor: CoordinatorDep,
                      clock: ClockDep) -> BoardAlert:
    """I have seen this alert and am dealing with it. A second acknowledgement keeps the
    first one's who and when (two coordinators pressing at once see the same answer)."""
    alert = (await session.scalars(select(Alert).where(Alert.id == alert_id)
                                   .with_for_update())).first()
    if alert is None:
        raise NotFound("alert")
    now = clock.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor.person_id
        audit(session, AuditEntry, actor, "acknowledge", "alert", alert.id, now)
    return _alert(alert)
