"""Every query of the notify service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import claim_by_priority
from services.notify.models import (
    OPEN,
    Alert,
    DeliveryEvent,
    Handoff,
    Message,
    ReplyLog,
    TimelineEntry,
)

PENDING = "pending"
SENDING = "sending"
UNKNOWN = "unknown"
CANCELLED = "cancelled"
DUE_STATUSES = (PENDING, UNKNOWN)


async def handoff_by_key(session: AsyncSession, key: str) -> Handoff | None:
    return (await session.scalars(select(Handoff).where(Handoff.handoff_key == key))).first()


async def open_for_referral(session: AsyncSession, referral_id: str) -> list[Handoff]:
    """The referral's handoffs still waiting for an answer, locked for this transaction."""
    stmt = (select(Handoff).where(Handoff.referral_id == referral_id, Handoff.status == "open")
            .with_for_update())
    return list((await session.scalars(stmt)).all())


async def has_later_offer(session: AsyncSession, referral_id: str, offer: int) -> bool:
    """Whether notify already holds a later offer of the referral (open or ended)."""
    stmt = (select(Handoff.id).where(Handoff.referral_id == referral_id, Handoff.offer > offer)
            .limit(1))
    return (await session.scalars(stmt)).first() is not None


async def lock_handoff(session: AsyncSession, handoff_id: str) -> Handoff | None:
    """The handoff, locked for this transaction (so an accept and an escalation step queue)."""
    stmt = select(Handoff).where(Handoff.id == handoff_id).with_for_update()
    return (await session.scalars(stmt)).first()


async def get_handoff(session: AsyncSession, handoff_id: str) -> Handoff | None:
    return await session.get(Handoff, handoff_id)


async def list_handoffs(session: AsyncSession, *, referral_id: str | None, status: str | None,
                        limit: int) -> Sequence[Handoff]:
    stmt = select(Handoff).order_by(Handoff.created_at.desc(), Handoff.id).limit(limit)
    if referral_id:
        stmt = stmt.where(Handoff.referral_id == referral_id)
    if status:
        stmt = stmt.where(Handoff.status == status)
    return (await session.scalars(stmt)).all()


async def open_offers(session: AsyncSession, keyworker_id: str | None,
                      limit: int) -> Sequence[Handoff]:
    """Open handoffs, soonest due first: those offered to `keyworker_id`, or all (None)."""
    stmt = select(Handoff).where(Handoff.status == OPEN)
    if keyworker_id is not None:
        stmt = stmt.where(Handoff.keyworker_id == keyworker_id)
    return (await session.scalars(stmt.order_by(Handoff.respond_by).limit(limit))).all()


async def newest_of_reference(session: AsyncSession, reference: str, keyworker_id: str | None,
                              *, lock: bool = False) -> Handoff | None:
    """The newest handoff of `reference` (offered to `keyworker_id`, unless None), locked for
    this transaction when `lock`."""
    stmt = select(Handoff).where(Handoff.reference == reference)
    if keyworker_id is not None:
        stmt = stmt.where(Handoff.keyworker_id == keyworker_id)
    stmt = stmt.order_by(Handoff.created_at.desc()).limit(1)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def open_codes(session: AsyncSession, keyworker_id: str) -> set[str]:
    stmt = select(Handoff.reply_code).where(Handoff.keyworker_id == keyworker_id,
                                           Handoff.status == OPEN)
    return set((await session.scalars(stmt)).all())


async def handoffs_with_code(session: AsyncSession, code: str) -> Sequence[Handoff]:
    stmt = select(Handoff).where(Handoff.reply_code == code).order_by(Handoff.created_at.desc())
    return (await session.scalars(stmt)).all()


async def latest_for_number(session: AsyncSession, phone: str) -> Handoff | None:
    """The newest handoff sent to `phone`: is it a key worker's number, and whose."""
    stmt = select(Handoff).where(Handoff.phone == phone).order_by(Handoff.created_at.desc())
    return (await session.scalars(stmt.limit(1))).first()


async def accepted_for_referral(session: AsyncSession, referral_id: str) -> Handoff | None:
    stmt = select(Handoff).where(Handoff.referral_id == referral_id,
                                 Handoff.status == "accepted")
    return (await session.scalars(stmt)).first()


async def messages_of(session: AsyncSession, handoff_id: str) -> Sequence[Message]:
    stmt = select(Message).where(Message.handoff_id == handoff_id).order_by(Message.created_at)
    return (await session.scalars(stmt)).all()


async def message_by_key(session: AsyncSession, key: str) -> Message | None:
    return (await session.scalars(select(Message).where(Message.dedupe_key == key))).first()


async def lock_message(session: AsyncSession, message_id: str) -> Message | None:
    """The message, locked for this transaction (its send's outcome is being recorded)."""
    return await session.get(Message, message_id, with_for_update=True)


async def message_by_sid(session: AsyncSession, sid: str) -> Message | None:
    stmt = select(Message).where(Message.provider_sid == sid).with_for_update()
    return (await session.scalars(stmt)).first()


async def known_sids(session: AsyncSession, to: str) -> set[str]:
    stmt = select(Message.provider_sid).where(Message.to == to,
                                              Message.provider_sid.is_not(None))
    return {sid for sid in (await session.scalars(stmt)).all() if sid}


async def cancel_pending(session: AsyncSession, handoff_id: str, now: datetime) -> int:
    """Cancel what has not been sent yet for a handoff (escalation stops here)."""
    result = await session.execute(
        update(Message).where(Message.handoff_id == handoff_id,
                              Message.status.in_(DUE_STATUSES))
        .values(status=CANCELLED, updated_at=now, locked_until=None))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_due(session: AsyncSession, now: datetime, limit: int,
                    oldest: int = 0) -> list[Message]:
    """Due messages, and sends whose lease ran out (their outcome is unknown), locked: the
    most urgent first, then by due time; `oldest` of them by due time alone, whatever their
    priority, so routine messages still go out during a run of urgent ones."""
    due = (((Message.status.in_(DUE_STATUSES)) & (Message.next_attempt_at <= now))
           | ((Message.status == SENDING) & (Message.locked_until < now)))
    return await claim_by_priority(session, Message, [due], limit, oldest)


async def delivery_events(session: AsyncSession, sid: str) -> Sequence[DeliveryEvent]:
    stmt = select(DeliveryEvent).where(DeliveryEvent.provider_sid == sid)
    return (await session.scalars(stmt.order_by(DeliveryEvent.id))).all()


async def has_delivery_event(session: AsyncSession, sid: str, status: str) -> bool:
    stmt = select(DeliveryEvent.id).where(DeliveryEvent.provider_sid == sid,
                                          DeliveryEvent.status == status)
    return (await session.scalars(stmt)).first() is not None


async def timeline(session: AsyncSession, handoff_id: str) -> Sequence[TimelineEntry]:
    stmt = select(TimelineEntry).where(TimelineEntry.handoff_id == handoff_id)
    return (await session.scalars(stmt.order_by(TimelineEntry.id))).all()


async def alert_by_key(session: AsyncSession, key: str) -> Alert | None:
    return (await session.scalars(select(Alert).where(Alert.alert_key == key))).first()


async def list_alerts(session: AsyncSession, limit: int) -> Sequence[Alert]:
    stmt = select(Alert).order_by(Alert.created_at.desc(), Alert.id).limit(limit)
    return (await session.scalars(stmt)).all()


async def replies_since(session: AsyncSession, phone: str, outcome: str | None,
                        since: datetime) -> int:
    stmt = select(func.count(ReplyLog.id)).where(ReplyLog.from_number == phone,
                                                 ReplyLog.at >= since)
    if outcome is not None:
        stmt = stmt.where(ReplyLog.outcome == outcome)
    return int((await session.scalar(stmt)) or 0)


async def open_handoffs_by_due(session: AsyncSession,
                               limit: int) -> tuple[int, datetime | None, Sequence[Handoff]]:
    """How many handoffs are open, the oldest offer's time, and the first `limit` of them,
    soonest due first."""
    count, oldest = (await session.execute(select(func.count(), func.min(Handoff.created_at))
                                           .where(Handoff.status == OPEN))).one()
    rows = (await session.scalars(select(Handoff).where(Handoff.status == OPEN)
                                  .order_by(Handoff.respond_by, Handoff.id)
                                  .limit(limit))).all()
    return count, oldest, rows


async def last_steps(session: AsyncSession, handoff_ids: Sequence[str]) -> dict[str, TimelineEntry]:
    """The latest timeline step of each handoff."""
    if not handoff_ids:
        return {}
    stmt = (select(TimelineEntry).where(TimelineEntry.handoff_id.in_(handoff_ids))
            .order_by(TimelineEntry.at, TimelineEntry.id))
    return {t.handoff_id: t for t in await session.scalars(stmt)}


async def open_alerts(session: AsyncSession,
                      limit: int) -> tuple[int, datetime | None, Sequence[Alert]]:
    """How many alerts nobody has acknowledged, the oldest one's time, and the first `limit`:
    crisis contacts first, then the newest."""
    unacknowledged = Alert.acknowledged_at.is_(None)
    count, oldest = (await session.execute(
        select(func.count(), func.min(Alert.created_at)).where(unacknowledged))).one()
    rows = (await session.scalars(
        select(Alert).where(unacknowledged)
        .order_by(case((Alert.kind == "crisis", 0), else_=1), Alert.created_at.desc(), Alert.id)
        .limit(limit))).all()
    return count, oldest, rows


async def acknowledged_since(session: AsyncSession, since: datetime,
                             limit: int) -> Sequence[Alert]:
    stmt = (select(Alert).where(Alert.acknowledged_at >= since)
            .order_by(Alert.acknowledged_at.desc()).limit(limit))
    return (await session.scalars(stmt)).all()


async def get_alert(session: AsyncSession, alert_id: str) -> Alert | None:
    return await session.get(Alert, alert_id)


async def lock_alert(session: AsyncSession, alert_id: str) -> Alert | None:
    """The alert, locked for this transaction (two coordinators acknowledging at once)."""
    stmt = select(Alert).where(Alert.id == alert_id).with_for_update()
    return (await session.scalars(stmt)).first()


async def offers_between(session: AsyncSession, start: datetime,
                         end: datetime) -> Sequence[tuple[str, datetime, datetime | None]]:
    """Each handoff offered in [start, end): its status, when offered and when closed."""
    stmt = select(Handoff.status, Handoff.created_at, Handoff.closed_at).where(
        Handoff.created_at >= start, Handoff.created_at < end)
    return [(status, offered, closed) for status, offered, closed in
            (await session.execute(stmt)).all()]
