"""Referrals, their timeline and notes, partner idempotency keys and webhooks, kit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import JSONType, UTCDateTime
from services.common.kit_models import BigId, create_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "referral",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("org", sa.String(200)),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("external_reference", sa.String(200)),
        sa.Column("subject", JSONType),
        sa.Column("reason", sa.Text),
        sa.Column("needs", JSONType, nullable=False),
        sa.Column("risk", JSONType, nullable=False),
        sa.Column("consent", JSONType),
        sa.Column("referrer", JSONType),
        sa.Column("requested_urgency", sa.String(20)),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("respond_by", UTCDateTime, nullable=False),
        sa.Column("sla_alert_at", UTCDateTime, nullable=False),
        sa.Column("locality", sa.String(40), nullable=False),
        sa.Column("team", sa.String(60), nullable=False),
        sa.Column("rules_version", sa.String(60), nullable=False),
        sa.Column("route_reasons", JSONType, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(40)),
        sa.Column("person_id", sa.String(64)),
        sa.Column("contact_id", sa.String(64)),
        sa.Column("keyworker_id", sa.String(64)),
        sa.Column("accepted_at", UTCDateTime),
        sa.Column("sla_alerted_at", UTCDateTime),
        sa.Column("breached_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_referral"),
        sa.UniqueConstraint("reference", name="uq_referral_reference"),
    )
    op.create_index("ix_referral_org_created", "referral", ["org", "created_at", "id"])
    op.create_index("ix_referral_status_respond_by", "referral", ["status", "respond_by"])
    op.create_table(
        "referral_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("keyworker_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_referral_event"),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"],
                                name="fk_referral_event_referral_id_referral"),
    )
    op.create_index("ix_referral_event_referral_id", "referral_event", ["referral_id"])
    op.create_table(
        "referral_note",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("org", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_referral_note"),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"],
                                name="fk_referral_note_referral_id_referral"),
    )
    op.create_index("ix_referral_note_referral_id", "referral_note", ["referral_id"])
    op.create_table(
        "idempotent_request",
        sa.Column("org", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("response", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("org", "key", name="pk_idempotent_request"),
    )
    op.create_table(
        "webhook",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("org", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook"),
    )
    op.create_index("ix_webhook_org", "webhook", ["org"])


def downgrade() -> None:
    for table in ("webhook", "idempotent_request", "referral_note", "referral_event",
                  "referral", "audit_log", "inbox", "outbox"):
        op.drop_table(table)
