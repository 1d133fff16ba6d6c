"""An assignment records the person's key worker when its referral arrived (continuity in the
monthly figures: referrals for people who already had a key worker, and whether that same
worker accepted). Assignments made before this revision have none.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("key_person_id", sa.String(36)))


def downgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("key_person_id")
