"""Areas, absences, duty rota, assignments and key-person links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import JSONType, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("keyworker", sa.Column("last_assigned_at", UTCDateTime))
    op.create_table(
        "keyworker_area",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(80), nullable=False),
        sa.Column("keyworker_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "keyworker_id", name="pk_keyworker_area"),
    )
    op.create_index("ix_keyworker_area_keyworker_id", "keyworker_area", ["keyworker_id"])
    op.create_table(
        "absence",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("keyworker_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_absence"),
    )
    op.create_index("ix_absence_ends_at_starts_at", "absence", ["ends_at", "starts_at"])
    op.create_index("ix_absence_keyworker_id_ends_at", "absence", ["keyworker_id", "ends_at"])
    op.create_table(
        "shift",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("keyworker_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("locality", sa.String(80)),
        sa.Column("team", sa.String(80)),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shift"),
    )
    op.create_index("ix_shift_role_ends_at", "shift", ["role", "ends_at", "starts_at"])
    op.create_index("ix_shift_keyworker_id_ends_at", "shift", ["keyworker_id", "ends_at"])
    op.create_table(
        "assignment",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("keyworker_id", sa.String(36)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("via", sa.String(30), nullable=False),
        sa.Column("cover_for", sa.String(36)),
        sa.Column("locality", sa.String(80), nullable=False),
        sa.Column("team", sa.String(80)),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("respond_by", UTCDateTime, nullable=False),
        sa.Column("skills", JSONType, nullable=False),
        sa.Column("declined", JSONType, nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("candidates", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("accepted_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_assignment"),
        sa.UniqueConstraint("referral_id", name="uq_assignment_referral_id"),
    )
    op.create_index("ix_assignment_keyworker_id_status", "assignment", ["keyworker_id", "status"])
    op.create_index("ix_assignment_person_id_status", "assignment", ["person_id", "status"])
    op.create_table(
        "key_person",
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("keyworker_id", sa.String(36), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.PrimaryKeyConstraint("person_id", name="pk_key_person"),
    )
    op.create_index("ix_key_person_keyworker_id", "key_person", ["keyworker_id"])


def downgrade() -> None:
    for table in ("key_person", "assignment", "shift", "absence", "keyworker_area"):
        op.drop_table(table)
    with op.batch_alter_table("keyworker") as batch:
        batch.drop_column("last_assigned_at")
