"""Alerts to the duty coordinators on duty now: recorded, then fanned out by SMS.

The on-duty lookup is an outbox row (target `rota`) so it is retried until keyperson answers
with at least one number; its reply handler queues one SMS per coordinator.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.http import ServiceClient, ServiceResponse
from services.common.ids import new_id
from services.common.kit_models import OutboxMixin
from services.common.outbox import dead_letter_alert, enqueue, priority_for
from services.common.promises import promises
from services.notify import repository
from services.notify.deps import Notify
from services.notify.messages import queue_message
from services.notify.models import Alert, OutboxMessage
from services.notify.templates import Facts, render

log = logging.getLogger(__name__)
ROTA_TARGET = "rota"
ON_DUTY = "/internal/rota/on-duty?role=duty_coordinator"
RECIPIENTS_HANDLER = "notify.alert_recipients"


async def raise_alert(session: AsyncSession, own: Notify, *, key: str, kind: str,
                      reference: str | None, referral_id: str | None, handoff_id: str | None,
                      urgency: str | None, respond_by: datetime | None) -> Alert:
    """Record an alert once per `key` and start its fan-out to the on-duty coordinators."""
    existing = await repository.alert_by_key(session, key)
    if existing is not None:
        return existing
    now = own.kit.clock.now()
    if kind == "crisis" and (respond_by is None or respond_by <= now):
        # Raised before any referral was routed, a crisis has no deadline yet: it is the
        # rules' emergency window from now, as the referral's will be, not the moment raised.
        urgency = urgency or "emergency"
        respond_by = promises().respond_by(urgency, now)
    alert = Alert(id=new_id(), alert_key=key, kind=kind, reference=reference,
                  referral_id=referral_id, handoff_id=handoff_id, urgency=urgency,
                  respond_by=respond_by, recipients=0, created_at=now)
    session.add(alert)
    # Keyperson answers the lookup of a `nobody_fits` alert with `superseded` (and no
    # numbers) once a key worker holds the referral: a late fan-out then tells nobody.
    path = ON_DUTY + (f"&referral_id={quote(referral_id, safe='')}"
                      if kind == "nobody_fits" and referral_id else "")
    enqueue(session, OutboxMessage, key=f"notify:alert:{alert.id}", target=ROTA_TARGET,
            path=path, payload={"alert_id": alert.id}, now=now, reply_handler=RECIPIENTS_HANDLER,
            priority=priority_for(alert_urgency(alert)))
    log.warning("alert raised", extra={"event": "alert.raised", "reference": reference,
                                       "referral_id": referral_id, "status": kind})
    return alert


def alert_urgency(alert: Alert) -> str | None:
    """How urgently an alert goes out: a crisis is an emergency whatever else it says."""
    return "emergency" if alert.kind == "crisis" else alert.urgency


async def dead_letter(session: AsyncSession, own: Notify, row: OutboxMixin) -> None:
    """Notify's own relay gave up on a row: alert here, in the same transaction (the other
    services' relays post the same alert to `/internal/alerts`)."""
    facts = dead_letter_alert("notify", row)
    await raise_alert(session, own, key=facts["alert_key"], kind="dead_letter",
                      reference=facts["reference"], referral_id=facts["referral_id"],
                      handoff_id=None, urgency=facts["urgency"], respond_by=None)


async def ask_who_is_on_duty(client: ServiceClient, row: OutboxMixin) -> ServiceResponse:
    """Send a `rota` row: ask keyperson who is on duty. Nobody on duty is a 503 with
    Retry-After, so the relay asks again without counting it as the row's failure."""
    resp = await client.get("keyperson", row.path, timeout=3.0)
    numbers = resp.body.get("numbers") if resp.ok and isinstance(resp.body, dict) else None
    superseded = isinstance(resp.body, dict) and resp.body.get("superseded") is True
    if resp.ok and not numbers and not superseded:
        log.error("no duty coordinator on duty to alert", extra={"event": "alert.nobody"})
        return ServiceResponse(503, resp.body, {"Retry-After": "60"})
    return resp


async def queue_to_recipients(session: AsyncSession, own: Notify, payload: dict[str, Any],
                              body: Any) -> None:
    """Keyperson named the coordinators on duty: queue one SMS each."""
    alert = await repository.get_alert(session, payload["alert_id"])
    if alert is None:
        return
    facts = Facts(reference=alert.reference or "-", urgency=alert.urgency or "urgent",
                  respond_by=alert.respond_by, alert=alert.kind)
    kind = "escalation" if alert.kind == "no_answer" else "coordinator_alert"
    now = own.kit.clock.now()
    for number in body.get("numbers", []):
        msg = await queue_message(session, key=f"alert:{alert.id}:{number}", kind=kind,
                                  channel="sms", to=number, body=render(kind, facts), now=now,
                                  alert_id=alert.id, urgency=alert_urgency(alert))
        if msg is not None:
            alert.recipients += 1
