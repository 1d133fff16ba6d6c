"""Workers added before the candidate index existed get their locality and team rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _values(raw: object) -> set[str]:
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return {str(v) for v in parsed or []}


def upgrade() -> None:
    bind = op.get_bind()
    have = {tuple(r) for r in bind.execute(
        sa.text("SELECT kind, value, keyworker_id FROM keyworker_area")).all()}
    missing = []
    for worker_id, localities, teams in bind.execute(
            sa.text("SELECT id, localities, teams FROM keyworker")).all():
        for kind, raw in (("locality", localities), ("team", teams)):
            missing.extend({"kind": kind, "value": v, "keyworker_id": worker_id}
                           for v in _values(raw) if (kind, v, worker_id) not in have)
    if missing:
        area = sa.table("keyworker_area", sa.column("kind", sa.String),
                        sa.column("value", sa.String), sa.column("keyworker_id", sa.String))
        op.bulk_insert(area, missing)


def downgrade() -> None:
    pass  # the rows stay correct for the workers they describe
