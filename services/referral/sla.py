"""SLA clocks: durable timers (outbox rows with a delay) that alert and record breaches."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import Clock
from services.common.outbox import enqueue
from services.referral import repository
from services.referral.models import OutboxMessage, Referral

log = logging.getLogger(__name__)

AT_RISK = "sla_at_risk"
BREACH = "sla_breach"


def schedule(session: AsyncSession, referral: Referral, now: datetime) -> None:
    """Two timers: the at-risk alert point and the deadline itself."""
    for handler, when in ((AT_RISK, referral.sla_alert_at), (BREACH, referral.respond_by)):
        enqueue(session, OutboxMessage, key=f"{handler}:{referral.id}", target="local",
                path=handler, payload={"referral_id": referral.id}, now=now,
                delay=max((when - now).total_seconds(), 0.0))


def alert(session: AsyncSession, referral: Referral, kind: str, now: datetime) -> None:
    """Ask notify to alert the duty coordinator (reference only, nothing about the person)."""
    key = f"{kind}:{referral.id}"
    enqueue(session, OutboxMessage, key=f"alert:{key}", target="notify", path="/internal/alerts",
            now=now, payload={"alert_key": key, "kind": kind, "reference": referral.reference,
                              "referral_id": referral.id, "urgency": referral.urgency,
                              "respond_by": referral.respond_by.isoformat()})


def awaiting_acceptance(referral: Referral) -> bool:
    """True while nobody has accepted the referral and it is not closed."""
    return referral.status in repository.AWAITING_ACCEPTANCE


async def at_risk(session: AsyncSession, clock: Clock, referral_id: str) -> None:
    """The at-risk timer ran: alert the duty coordinator if nobody has accepted yet."""
    referral = await repository.get_referral_for_update(session, referral_id)
    if referral is None or not awaiting_acceptance(referral):
        return
    now = clock.now()
    referral.sla_alerted_at = now
    alert(session, referral, "sla_at_risk", now)
    log.warning("referral at risk of missing its deadline",
                extra={"event": "sla.at_risk", "referral_id": referral.id,
                       "urgency": referral.urgency})


async def breach(session: AsyncSession, clock: Clock, referral_id: str) -> None:
    """The deadline timer ran: record the breach and alert, if nobody has accepted yet."""
    referral = await repository.get_referral_for_update(session, referral_id)
    if referral is None or not awaiting_acceptance(referral):
        return
    now = clock.now()
    referral.breached_at = now
    alert(session, referral, "sla_breached", now)
    log.error("referral missed its deadline", extra={
        "event": "sla.breached", "referral_id": referral.id, "urgency": referral.urgency})
