"""The Hub board's part from notify: handoffs nobody has answered, with where each is in its
escalation, and the alerts still open, with their acknowledgement (who and when)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import NotFound
from services.notify import repository
from services.notify.deps import Notify
from services.notify.models import Alert, AuditEntry, Handoff, TimelineEntry
from services.notify.policy import Step

# Acknowledged alerts stay on the board this long, saying by whom and when.
RECENTLY = timedelta(hours=12)
RECENTLY_SHOWN = 20


@dataclass(frozen=True, slots=True)
class WaitingHandoff:
    """An open handoff, its latest step and the policy's next one."""

    handoff: Handoff
    last: TimelineEntry | None
    next_step: Step | None
    next_step_at: datetime | None


@dataclass(frozen=True, slots=True)
class Board:
    handoffs_open: int
    oldest_handoff_at: datetime | None
    handoffs: list[WaitingHandoff]
    alerts_open: int
    oldest_alert_at: datetime | None
    alerts: Sequence[Alert]
    acknowledged: Sequence[Alert]


async def read(session: AsyncSession, own: Notify, now: datetime, limit: int) -> Board:
    """The board as it is `now`: polled every few seconds, so it writes no audit entry."""
    count, oldest, handoffs = await repository.open_handoffs_by_due(session, limit)
    last = await repository.last_steps(session, [h.id for h in handoffs])
    waiting = []
    for h in handoffs:
        upcoming = own.policy.next_step(h.urgency, h.offer, (now - h.created_at).total_seconds())
        waiting.append(WaitingHandoff(
            h, last.get(h.id), upcoming,
            h.created_at + timedelta(seconds=upcoming.after) if upcoming else None))
    a_count, a_oldest, alerts = await repository.open_alerts(session, limit)
    done = await repository.acknowledged_since(session, now - RECENTLY, RECENTLY_SHOWN)
    return Board(count, oldest, waiting, a_count, a_oldest, alerts, done)


async def acknowledge(session: AsyncSession, actor: Actor, alert_id: str,
                      now: datetime) -> Alert:
    """`actor` has seen the alert and is dealing with it. A second acknowledgement keeps the
    first one's who and when (two coordinators pressing at once see the same answer); the
    first is recorded in the audit log."""
    alert = await repository.lock_alert(session, alert_id)
    if alert is None:
        raise NotFound("alert")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor.person_id
        audit(session, AuditEntry, actor, "acknowledge", "alert", alert.id, now)
    return alert
