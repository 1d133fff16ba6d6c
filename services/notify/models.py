"""Notify's tables: handoffs with their reply codes, outgoing messages, timelines, alerts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, new_metadata
from services.common.kit import KitModels
from services.common.kit_models import AuditMixin, BigId, InboxMixin, OutboxMixin

OPEN = "open"


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxEntry(InboxMixin, Base):
    pass


class AuditEntry(AuditMixin, Base):
    pass


KIT_MODELS = KitModels(outbox=OutboxMessage, inbox=InboxEntry, audit=AuditEntry)


class Handoff(Base):
    """One offer of a referral to one key worker, answered with its reply code."""

    __tablename__ = "handoff"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    handoff_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    referral_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    reference: Mapped[str] = mapped_column(sa.String(20))
    urgency: Mapped[str] = mapped_column(sa.String(20))
    respond_by: Mapped[datetime]
    keyworker_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    offer: Mapped[int]
    reply_code: Mapped[str] = mapped_column(sa.String(12))
    code_expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(20), default=OPEN)
    policy_version: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        # A code is unique among one worker's open handoffs (both dialects index partially).
        sa.Index("uq_handoff_open_code", "keyworker_id", "reply_code", unique=True,
                 sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
    )


class Message(Base):
    """One SMS or voice call to send: the notification outbox the dispatcher drains."""

    __tablename__ = "message"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    handoff_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    alert_id: Mapped[str | None] = mapped_column(sa.String(36))
    kind: Mapped[str] = mapped_column(sa.String(30))
    channel: Mapped[str] = mapped_column(sa.String(10))
    to: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20))
    provider_sid: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    error_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # 0 emergency … 3 routine (`services.common.outbox.priority_for`): claimed most urgent first.
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=2,
                                          server_default=sa.text("2"))

    __table_args__ = (sa.Index("ix_message_due", "status", "next_attempt_at"),)


class DeliveryEvent(Base):
    """A status callback as it arrived (repeats collapse on the unique pair)."""

    __tablename__ = "delivery_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider_sid: Mapped[str] = mapped_column(sa.String(40), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    error_code: Mapped[int | None]
    at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("provider_sid", "status",
                                          name="uq_delivery_event_sid_status"),)


class TimelineEntry(Base):
    """One step in a handoff's life: offered, sent, escalated, accepted … (ids only)."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    at: Mapped[datetime]
    step: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str | None] = mapped_column(sa.String(10))
    message_id: Mapped[str | None] = mapped_column(sa.String(36))
    detail: Mapped[str | None] = mapped_column(sa.String(200))


class Alert(Base):
    """An alert to the on-duty duty coordinators (reference only)."""

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    alert_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    reference: Mapped[str | None] = mapped_column(sa.String(20))
    referral_id: Mapped[str | None] = mapped_column(sa.String(36))
    handoff_id: Mapped[str | None] = mapped_column(sa.String(36))
    urgency: Mapped[str | None] = mapped_column(sa.String(20))
    respond_by: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    # Acknowledged on the Hub board: by whom (the desk account id) and when; open until then.
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_alert_open", "acknowledged_at", "created_at"),)


class ReplyLog(Base):
    """Each SMS reply notify answered, for rate-limiting help replies per number."""

    __tablename__ = "reply_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_number: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_reply_log_from_at", "from_number", "at"),)
