"""Referral's tables: referrals, their timeline, partner information, idempotency, webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import JSONType
from services.common.kit import KitModels
from services.common.kit_models import AuditMixin, BigId, InboxMixin, OutboxMixin
from services.referral.base import Base

# The network directory's tables share referral's metadata and Alembic history.
from services.referral.directory import models as _directory_models  # noqa: F401


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxEntry(InboxMixin, Base):
    pass


class AuditEntry(AuditMixin, Base):
    pass


KIT_MODELS = KitModels(outbox=OutboxMessage, inbox=InboxEntry, audit=AuditEntry)


class Referral(Base):
    """One referral of a person: who sent it, its route, its status and its SLA clock."""

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    org: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(20))
    external_reference: Mapped[str | None] = mapped_column(sa.String(200))
    subject: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    needs: Mapped[list[str]]
    risk: Mapped[dict[str, Any]]
    consent: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    referrer: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    requested_urgency: Mapped[str | None] = mapped_column(sa.String(20))
    urgency: Mapped[str] = mapped_column(sa.String(20))
    respond_by: Mapped[datetime]
    sla_alert_at: Mapped[datetime]
    locality: Mapped[str] = mapped_column(sa.String(40))
    team: Mapped[str] = mapped_column(sa.String(60))
    rules_version: Mapped[str] = mapped_column(sa.String(60))
    route_reasons: Mapped[list[str]]
    status: Mapped[str] = mapped_column(sa.String(20))
    status_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(sa.String(40))
    person_id: Mapped[str | None] = mapped_column(sa.String(64))
    contact_id: Mapped[str | None] = mapped_column(sa.String(64))
    keyworker_id: Mapped[str | None] = mapped_column(sa.String(64))
    accepted_at: Mapped[datetime | None]
    sla_alerted_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.Index("ix_referral_org_created", "org", "created_at", "id"),
        sa.Index("ix_referral_status_respond_by", "status", "respond_by"),
        # The person's earlier referrals, newest first, and who holds one (the desk).
        sa.Index("ix_referral_person", "person_id", "created_at"),
    )


class ReferralEvent(Base):
    """The timeline: every status change and notable step, with its time."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(sa.ForeignKey("referral.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    keyworker_id: Mapped[str | None] = mapped_column(sa.String(64))


class ReferralNote(Base):
    """Further information a referrer added; never shown back through the partner API."""

    __tablename__ = "referral_note"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(sa.ForeignKey("referral.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.Text)
    org: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]


class IdempotentRequest(Base):
    """A partner's `Idempotency-Key`, the body it came with and the answer it got."""

    __tablename__ = "idempotent_request"

    org: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    body_hash: Mapped[str] = mapped_column(sa.String(64))
    referral_id: Mapped[str] = mapped_column(sa.String(36))
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Webhook(Base):
    """A partner's URL that receives each status change of its referrals, signed."""

    __tablename__ = "webhook"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    org: Mapped[str] = mapped_column(sa.String(200), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

