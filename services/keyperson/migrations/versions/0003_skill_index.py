"""Skills join localities and teams in the candidate index, so ranking runs in SQL; shifts
are found by time alone (who is working within an urgent referral's window).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, skills FROM keyworker")).all()
    area = sa.table("keyworker_area", sa.column("kind", sa.String), sa.column("value", sa.String),
                    sa.column("keyworker_id", sa.String))
    values = []
    for worker_id, skills in rows:
        parsed = json.loads(skills) if isinstance(skills, str) else skills
        values.extend({"kind": "skill", "value": s, "keyworker_id": worker_id}
                      for s in set(parsed or []))
    if values:
        op.bulk_insert(area, values)
    op.create_index("ix_shift_ends_at", "shift", ["ends_at", "starts_at", "keyworker_id"])


def downgrade() -> None:
    op.drop_index("ix_shift_ends_at", "shift")
    op.execute("DELETE FROM keyworker_area WHERE kind = 'skill'")
