"""The gateway's tables: API keys (hashed) and its audit log and replay spool."""

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
    """Webhooks the gateway accepted while their service could not take them (replayed)."""


class InboxEntry(InboxMixin, Base):
    pass


class AuditEntry(AuditMixin, Base):
    pass


KIT_MODELS = KitModels(outbox=OutboxMessage, inbox=InboxEntry, audit=AuditEntry)


class ApiKey(Base):
    """An organisation's key: only a SHA-256 of the secret is stored."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    org: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
