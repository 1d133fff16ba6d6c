"""Keyperson's tables: the roster of key workers (and the kit tables)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, new_metadata
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
    """A key worker on the roster."""

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
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
