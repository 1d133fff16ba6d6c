"""The handoff lifecycle: offer, escalate by policy, accept, decline, expire, fail over."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import SYSTEM, Actor
from services.common.errors import NotFound
from services.common.ids import new_id
from services.common.outbox import enqueue, priority_for
from services.notify import alerts, repository
from services.notify.codes import new_code
from services.notify.deps import Notify
from services.notify.desk_link import with_desk_link
from services.notify.messages import queue_message
from services.notify.models import (
    OPEN,
    AuditEntry,
    Handoff,
    Message,
    OutboxMessage,
    TimelineEntry,
)
from services.notify.templates import Facts, handoff_call, render

log = logging.getLogger(__name__)
ESCALATE_HANDLER = "notify.escalate"


def note(session: AsyncSession, handoff_id: str, at: datetime, step: str, *,
         channel: str | None = None, message_id: str | None = None,
         detail: str | None = None) -> None:
    """Add a step to the handoff's timeline (ids and codes only, never content)."""
    session.add(TimelineEntry(handoff_id=handoff_id, at=at, step=step, channel=channel,
                              message_id=message_id, detail=detail))


def facts(h: Handoff) -> Facts:
    return Facts(reference=h.reference, urgency=h.urgency, respond_by=h.respond_by,
                 code=h.reply_code)


def offer_number(handoff_key: str) -> int:
    """`<referral_id>:<n>` → n (1 when the key carries no number)."""
    tail = handoff_key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() and ":" in handoff_key else 1


async def _fresh_code(session: AsyncSession, keyworker_id: str) -> str:
    taken = await repository.open_codes(session, keyworker_id)
    while True:
        code = new_code()
        if code not in taken:
            return code


async def offer(session: AsyncSession, own: Notify, data: dict[str, Any]) -> Handoff:
    """Keyperson offers a referral to a key worker: the handoff (once per `handoff_key`; the
    same key again answers the same handoff and sends nothing more), its first messages and
    its timers, and the offer in the audit log (each time it is asked)."""
    h = await repository.handoff_by_key(session, data["handoff_key"]) \
        or await _new_handoff(session, own, data)
    audit(session, AuditEntry, SYSTEM, "offer", "handoff", h.id, own.kit.clock.now())
    return h


async def _new_handoff(session: AsyncSession, own: Notify, data: dict[str, Any]) -> Handoff:
    now = own.kit.clock.now()
    number = offer_number(data["handoff_key"])
    # Keyperson moved the referral on (absence, deactivation, staff reassignment): the older
    # offer's code stops working and its escalation stops; keyperson already knows.
    for older in await repository.open_for_referral(session, data["referral_id"]):
        if older.offer < number:
            await close_and_tell(session, own, older, "reassigned", now)
    # Keyperson's outbox delivers rows side by side, so an offer can arrive after a later one
    # of the same referral: it is kept (a replay finds it) but over at once, sending nothing.
    superseded = await repository.has_later_offer(session, data["referral_id"], number)
    respond_by: datetime = data["respond_by"]
    h = Handoff(id=new_id(), handoff_key=data["handoff_key"], referral_id=data["referral_id"],
                reference=data["reference"], urgency=data["urgency"], respond_by=respond_by,
                keyworker_id=data["keyworker_id"], phone=data["phone"], email=data.get("email"),
                offer=number,
                reply_code=await _fresh_code(session, data["keyworker_id"]),
                code_expires_at=max(respond_by, now) + timedelta(
                    seconds=own.policy.code_valid_after_respond_by),
                status=OPEN, policy_version=own.policy.version, created_at=now, updated_at=now)
    session.add(h)
    await session.flush()  # a twin that won the race makes this a 409; the retry finds it
    note(session, h.id, now, "offered", detail=f"offer {h.offer}, policy {h.policy_version}")
    if superseded:
        await close_and_tell(session, own, h, "reassigned", now)
        return h
    # One timer per moment, running its steps in policy order (an alert before the hand-back).
    moments: dict[float, list[int]] = {}
    for index, step in own.policy.steps(h.urgency, h.offer):
        moments.setdefault(step.after, []).append(index)
    for after, indexes in sorted(moments.items()):
        if after == 0:
            for index in indexes:
                await run_step(session, own, h, index)
            continue
        enqueue(session, OutboxMessage, key=f"notify:handoff:{h.id}:at:{int(after)}",
                target="local", path=ESCALATE_HANDLER, now=now, delay=after,
                payload={"handoff_id": h.id, "steps": indexes},
                priority=priority_for(h.urgency))
    return h


async def run_step(session: AsyncSession, own: Notify, h: Handoff, index: int) -> None:
    """Do one step of the policy for an open handoff."""
    step = own.policy.step(h.urgency, index)
    now = own.kit.clock.now()
    key = f"handoff:{h.id}:step:{index}"
    if step.action in ("sms", "reminder"):
        kind = "handoff" if step.action == "sms" else "reminder"
        # The worker's way into the desk: the link's path is the reference alone.
        body = with_desk_link(render(kind, facts(h)), own.kit.settings.public_base_url,
                              h.reference)
        msg = await queue_message(session, key=key, kind=kind, channel="sms", to=h.phone,
                                  body=body, now=now, handoff_id=h.id, urgency=h.urgency)
        if msg:
            note(session, h.id, now, step.action, channel="sms", message_id=msg.id)
    elif step.action == "call":
        await queue_call(session, own, h, key, now, step="call")
    elif step.action == "alert_coordinator":
        await alerts.raise_alert(session, own, key=f"handoff:{h.id}:no_answer", kind="no_answer",
                                 reference=h.reference, referral_id=h.referral_id,
                                 handoff_id=h.id, urgency=h.urgency, respond_by=h.respond_by)
        note(session, h.id, now, "alert_coordinator", detail="no_answer")
    elif step.action == "next_candidate":
        await close_and_tell(session, own, h, "expired", now)
        note(session, h.id, now, "next_candidate", detail="offered to the next key worker")


async def queue_call(session: AsyncSession, own: Notify, h: Handoff, key: str, now: datetime,
                     step: str) -> None:
    """A voice call to the handoff's worker: press 1 to accept, 2 to decline."""
    twiml = handoff_call(facts(h), own.callback_url(f"/handoff-call/{h.id}"))
    msg = await queue_message(session, key=key, kind="handoff_call", channel="voice", to=h.phone,
                              body=twiml, now=now, handoff_id=h.id, urgency=h.urgency)
    if msg:
        note(session, h.id, now, step, channel="voice", message_id=msg.id)


async def escalate(session: AsyncSession, own: Notify, payload: dict[str, Any]) -> None:
    """A timer fired: run its steps unless the handoff has been answered meanwhile."""
    h = await repository.lock_handoff(session, payload["handoff_id"])
    for index in payload["steps"]:
        if h is None or h.status != OPEN:
            return
        await run_step(session, own, h, int(index))


async def close_and_tell(session: AsyncSession, own: Notify, h: Handoff, status: str,
                         now: datetime) -> None:
    """End the handoff, cancel what is not sent yet and tell keyperson (and referral)."""
    h.status, h.closed_at, h.updated_at = status, now, now
    cancelled = await repository.cancel_pending(session, h.id, now)
    note(session, h.id, now, status, detail=f"{cancelled} unsent cancelled" if cancelled else None)
    at, urgent = now.isoformat(), priority_for(h.urgency)
    if status == "accepted":
        enqueue(session, OutboxMessage, key=f"notify:{h.id}:accepted:referral", target="referral",
                path=f"/internal/referrals/{h.referral_id}/events", now=now, priority=urgent,
                payload={"event": "accepted", "at": at, "keyworker_id": h.keyworker_id})
        enqueue(session, OutboxMessage, key=f"notify:{h.id}:accepted:keyperson",
                target="keyperson", path=f"/internal/assignments/{h.referral_id}/accepted",
                now=now, priority=urgent,
                payload={"keyworker_id": h.keyworker_id, "handoff_id": h.id})
    elif status in ("declined", "expired", "failed"):
        enqueue(session, OutboxMessage, key=f"notify:{h.id}:{status}:keyperson",
                target="keyperson", path=f"/internal/assignments/{h.referral_id}/declined",
                now=now, priority=urgent,
                payload={"keyworker_id": h.keyworker_id, "handoff_id": h.id, "reason": status})
    log.info("handoff closed", extra={"event": "handoff.closed", "handoff_id": h.id,
                                      "status": status, "referral_id": h.referral_id})


async def alert_and_fail_over(session: AsyncSession, own: Notify, msg: Message,
                              code: int | None) -> None:
    """A message failed for good: alert the duty coordinator and switch channel; when every
    channel has failed, hand the referral back to keyperson."""
    now = own.kit.clock.now()
    if msg.handoff_id is None:
        log.error("message to staff failed", extra={"event": "message.failed",
                                                     "message_id": msg.id, "error": str(code)})
        return
    h = await repository.lock_handoff(session, msg.handoff_id)
    if h is None or h.status != OPEN:
        return
    note(session, h.id, now, "send_failed", channel=msg.channel, message_id=msg.id,
         detail=f"code {code}" if code else None)
    kind = "worker_stopped" if code == 21610 else "send_failed"
    await alerts.raise_alert(session, own, key=f"handoff:{h.id}:{kind}:{msg.channel}", kind=kind,
                             reference=h.reference, referral_id=h.referral_id, handoff_id=h.id,
                             urgency=h.urgency, respond_by=h.respond_by)
    others = [m for m in await repository.messages_of(session, h.id) if m.id != msg.id]
    if msg.channel == "sms":
        if not any(m.channel == "voice" and m.status != "failed" for m in others):
            await queue_call(session, own, h, f"handoff:{h.id}:fallback-call", now,
                             step="channel_switch")
        return
    if all(m.status in ("failed", "undelivered", repository.CANCELLED) for m in others):
        await close_and_tell(session, own, h, "failed", now)


@dataclass(frozen=True, slots=True)
class Detail:
    """A handoff with every step of its timeline and each of its SMS and calls."""

    handoff: Handoff
    timeline: Sequence[TimelineEntry]
    messages: Sequence[Message]


async def read_detail(session: AsyncSession, actor: Actor, handoff_id: str,
                      now: datetime) -> Detail:
    """One handoff as staff see it, its reading recorded in the audit log."""
    h = await repository.get_handoff(session, handoff_id)
    if h is None:
        raise NotFound("handoff")
    audit(session, AuditEntry, actor, "read", "handoff", h.id, now)
    return Detail(h, await repository.timeline(session, h.id),
                  await repository.messages_of(session, h.id))
