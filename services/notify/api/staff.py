"""Staff routes: handoffs with their timelines, and the alerts sent to duty coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.notify import handoffs, repository
from services.notify.schemas import (
    AlertRead,
    HandoffDetail,
    HandoffRead,
    MessageRead,
    TimelineRead,
)

router = APIRouter(prefix="/api/v1", tags=["handoffs"])


@router.get("/handoffs", response_model=list[HandoffRead])
async def list_handoffs(
    session: SessionDep, _: StaffDep,
    referral_id: Annotated[str | None, Query(max_length=36)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HandoffRead]:
    """Handoffs, newest first; filter by `referral_id` or `status` (`open`, `accepted`,
    `declined`, `expired`, `failed`, `reassigned`)."""
    rows = await repository.list_handoffs(session, referral_id=referral_id, status=status,
                                          limit=limit)
    return [HandoffRead.model_validate(h) for h in rows]


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
async def get_handoff(handoff_id: str, session: SessionDep, actor: StaffDep,
                      clock: ClockDep) -> HandoffDetail:
    """One handoff with every step of its timeline and the state of each SMS and call."""
    d = await handoffs.read_detail(session, actor, handoff_id, clock.now())
    return HandoffDetail(
        **HandoffRead.model_validate(d.handoff).model_dump(),
        timeline=[TimelineRead.model_validate(t) for t in d.timeline],
        messages=[MessageRead.model_validate(m) for m in d.messages])


@router.get("/alerts", response_model=list[AlertRead])
async def list_alerts(session: SessionDep, _: StaffDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AlertRead]:
    """Alerts raised to the duty coordinators, newest first."""
    return [AlertRead.model_validate(a) for a in await repository.list_alerts(session, limit)]
