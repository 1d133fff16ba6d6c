"""Tables every service has: outbox, inbox (processed deliveries) and the audit log.

Each service declares them on its own metadata (`class OutboxMessage(OutboxMixin, Base)`),
so they live in its own schema and its own Alembic history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from services.common.db import JSONType, UTCDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# The claim's partial index holds only rows still waiting, so it stays small however many
# delivered rows the retention keeps.
_WAITING = "delivered_at IS NULL AND dead_at IS NULL"


class OutboxMixin:
    """An event written in the same transaction as the change it announces."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    target: Mapped[str] = mapped_column(sa.String(40))
    path: Mapped[str] = mapped_column(sa.String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reply_handler: Mapped[str | None] = mapped_column(sa.String(80))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 0 emergency … 3 routine (`outbox.priority_for`): the relay claims the most urgent first.
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=2,
                                          server_default=sa.text("2"))
    # Failures in a row with the same `last_error`; at the relay's limit it is a dead letter.
    failures: Mapped[int] = mapped_column(sa.SmallInteger, default=0,
                                          server_default=sa.text("0"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[sa.Index, ...]:
        # A fresh Index per class: several services' models may be loaded in one process.
        return (sa.Index("ix_outbox_due", "delivered_at", "dead_at", "next_attempt_at"),
                sa.Index("ix_outbox_urgent", "priority", "next_attempt_at",
                         sqlite_where=sa.text(_WAITING), postgresql_where=sa.text(_WAITING)))


def add_outbox_priority() -> None:
    """Migration step: the outbox's `priority` and `failures` columns and the claim's index
    (each service's migration that adds them calls this)."""
    from alembic import op  # only migrations need Alembic; the running services do not

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False,
                                   server_default=sa.text("2")))
        batch.add_column(sa.Column("failures", sa.SmallInteger, nullable=False,
                                   server_default=sa.text("0")))
    op.create_index("ix_outbox_urgent", "outbox", ["priority", "next_attempt_at"],
                    sqlite_where=sa.text(_WAITING), postgresql_where=sa.text(_WAITING))


def drop_outbox_priority() -> None:
    from alembic import op  # only migrations need Alembic; the running services do not

    op.drop_index("ix_outbox_urgent", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failures")
        batch.drop_column("priority")


class InboxMixin:
    """Idempotency keys of deliveries already applied: a repeat is recognised and ignored."""

    __tablename__ = "inbox"

    idempotency_key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditMixin:
    """Append-only: who read or changed which person or referral, never the content."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_kind: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_org: Mapped[str | None] = mapped_column(sa.String(200))
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(40))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(64), index=True)


def create_kit_tables() -> None:
    """Migration step shared by every service's first revision."""
    from alembic import op  # only migrations need Alembic; the running services do not

    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("reply_handler", sa.String(80)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("delivered_at", UTCDateTime),
        sa.Column("dead_at", UTCDateTime),
        sa.Column("last_error", sa.String(300)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "dead_at", "next_attempt_at"])
    op.create_table(
        "inbox",
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("response", JSONType),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name="pk_inbox"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("actor_org", sa.String(200)),
        sa.Column("actor_role", sa.String(20)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity_id"])
    make_audit_append_only(op.get_bind().dialect.name)


def make_audit_append_only(dialect: str) -> None:
    """The database itself refuses to change or delete an audit entry."""
    from alembic import op  # only migrations need Alembic; the running services do not

    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
