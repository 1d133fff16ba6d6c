"""Referrals are indexed by person: the desk's person page reads the person's earlier
referrals, and intake asks whether a key worker holds one of theirs, on every view; without
an index both read the whole referral table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_referral_person", "referral", ["person_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_referral_person", table_name="referral")
