"""Roster of key workers, with the kit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import JSONType, UTCDateTime
from services.common.kit_models import create_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "keyworker",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("localities", JSONType, nullable=False),
        sa.Column("teams", JSONType, nullable=False),
        sa.Column("skills", JSONType, nullable=False),
        sa.Column("max_caseload", sa.Integer, nullable=False),
        sa.Column("caseload", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyworker"),
    )
    op.create_index("ix_keyworker_phone", "keyworker", ["phone"])


def downgrade() -> None:
    op.drop_table("keyworker")
    for table in ("audit_log", "inbox", "outbox"):
        op.drop_table(table)
