"""Handoffs, messages, delivery events, timelines, alerts and the reply log, with the kit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime
from services.common.kit_models import BigId, create_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "handoff",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("handoff_key", sa.String(200), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("respond_by", UTCDateTime, nullable=False),
        sa.Column("keyworker_id", sa.String(36), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("offer", sa.Integer, nullable=False),
        sa.Column("reply_code", sa.String(12), nullable=False),
        sa.Column("code_expires_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_handoff"),
        sa.UniqueConstraint("handoff_key", name="uq_handoff_handoff_key"),
    )
    op.create_index("ix_handoff_referral_id", "handoff", ["referral_id"])
    op.create_index("ix_handoff_keyworker_id", "handoff", ["keyworker_id"])
    op.create_index("ix_handoff_phone", "handoff", ["phone"])
    op.create_index("uq_handoff_open_code", "handoff", ["keyworker_id", "reply_code"],
                    unique=True, sqlite_where=sa.text("status = 'open'"),
                    postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "message",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("handoff_id", sa.String(36)),
        sa.Column("alert_id", sa.String(36)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("to", sa.String(20), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider_sid", sa.String(40)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("error_code", sa.Integer),
        sa.Column("last_error", sa.String(300)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message"),
        sa.UniqueConstraint("dedupe_key", name="uq_message_dedupe_key"),
        sa.UniqueConstraint("provider_sid", name="uq_message_provider_sid"),
    )
    op.create_index("ix_message_handoff_id", "message", ["handoff_id"])
    op.create_index("ix_message_due", "message", ["status", "next_attempt_at"])
    op.create_table(
        "delivery_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("provider_sid", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error_code", sa.Integer),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_event"),
        sa.UniqueConstraint("provider_sid", "status", name="uq_delivery_event_sid_status"),
    )
    op.create_index("ix_delivery_event_provider_sid", "delivery_event", ["provider_sid"])
    op.create_table(
        "timeline",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10)),
        sa.Column("message_id", sa.String(36)),
        sa.Column("detail", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_timeline"),
    )
    op.create_index("ix_timeline_handoff_id", "timeline", ["handoff_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("alert_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("reference", sa.String(20)),
        sa.Column("referral_id", sa.String(36)),
        sa.Column("handoff_id", sa.String(36)),
        sa.Column("urgency", sa.String(20)),
        sa.Column("respond_by", UTCDateTime),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
        sa.UniqueConstraint("alert_key", name="uq_alert_alert_key"),
    )
    op.create_table(
        "reply_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("from_number", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reply_log"),
    )
    op.create_index("ix_reply_log_from_at", "reply_log", ["from_number", "at"])


def downgrade() -> None:
    for table in ("reply_log", "alert", "timeline", "delivery_event", "message", "handoff",
                  "audit_log", "inbox", "outbox"):
        op.drop_table(table)
