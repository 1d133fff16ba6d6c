"""Keyperson's tables: roster, absences, duty rota, assignments and key-person links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import JSONType, ServiceBase, new_metadata
from services.common.kit import KitModels
from services.common.kit_models import AuditMixin, InboxMixin, OutboxMixin


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


class KeyWorker(Base):
    """A key worker on the roster. `caseload` counts the people they hold open referrals
    of (a person with several counts once)."""

    __tablename__ = "keyworker"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    localities: Mapped[list[str]]
    teams: Mapped[list[str]]
    skills: Mapped[list[str]]
    max_caseload: Mapped[int]
    caseload: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        # One mobile per active worker: replies from a shared phone could not be told apart.
        sa.Index("uq_keyworker_phone_active", "phone", unique=True,
                 sqlite_where=sa.text("active"), postgresql_where=sa.text("active")),
    )


class KeyWorkerArea(Base):
    """One locality, team or skill of a worker: the index that finds and orders candidates."""

    __tablename__ = "keyworker_area"

    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # locality | team | skill
    value: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    keyworker_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, index=True)


class Absence(Base):
    """A worker away from `starts_at` until `ends_at` (UTC)."""

    __tablename__ = "absence"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    keyworker_id: Mapped[str] = mapped_column(sa.String(36))
    kind: Mapped[str] = mapped_column(sa.String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]

    __table_args__ = (
        sa.Index("ix_absence_ends_at_starts_at", "ends_at", "starts_at"),
        sa.Index("ix_absence_keyworker_id_ends_at", "keyworker_id", "ends_at"),
    )


class Shift(Base):
    """A duty rota shift in UTC; `locality` None covers the whole borough."""

    __tablename__ = "shift"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    keyworker_id: Mapped[str] = mapped_column(sa.String(36))
    role: Mapped[str] = mapped_column(sa.String(30))
    locality: Mapped[str | None] = mapped_column(sa.String(80))
    team: Mapped[str | None] = mapped_column(sa.String(80))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]

    __table_args__ = (
        sa.Index("ix_shift_role_ends_at", "role", "ends_at", "starts_at"),
        sa.Index("ix_shift_keyworker_id_ends_at", "keyworker_id", "ends_at"),
        sa.Index("ix_shift_ends_at", "ends_at", "starts_at", "keyworker_id"),
    )


class Assignment(Base):
    """The key worker offered (or holding) one referral, with how they were chosen."""

    __tablename__ = "assignment"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    reference: Mapped[str] = mapped_column(sa.String(20))
    person_id: Mapped[str | None] = mapped_column(sa.String(36))
    keyworker_id: Mapped[str | None] = mapped_column(sa.String(36))
    status: Mapped[str] = mapped_column(sa.String(20))  # offered|accepted|unassigned|closed
    attempt: Mapped[int]
    via: Mapped[str] = mapped_column(sa.String(30))
    cover_for: Mapped[str | None] = mapped_column(sa.String(36))
    # The person's key worker when this referral arrived, if they had one: continuity in the
    # monthly figures (was it accepted by that same worker?).
    key_person_id: Mapped[str | None] = mapped_column(sa.String(36))
    locality: Mapped[str] = mapped_column(sa.String(80))
    team: Mapped[str | None] = mapped_column(sa.String(80))
    urgency: Mapped[str] = mapped_column(sa.String(20))
    respond_by: Mapped[datetime]
    skills: Mapped[list[str]]
    declined: Mapped[list[str]]
    reasons: Mapped[list[str]]
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        sa.Index("ix_assignment_keyworker_id_status", "keyworker_id", "status"),
        sa.Index("ix_assignment_person_id_status", "person_id", "status"),
        sa.Index("ix_assignment_status_respond_by", "status", "respond_by"),
    )


class KeyPersonLink(Base):
    """A person's key person: the worker continuity brings them back to."""

    __tablename__ = "key_person"

    person_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    keyworker_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    since: Mapped[datetime]
    ended_at: Mapped[datetime | None]
