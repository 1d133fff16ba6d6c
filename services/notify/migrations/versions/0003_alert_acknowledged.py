"""An alert is acknowledged on the Hub board: by whom (the desk account) and when. Open
alerts (not yet acknowledged) are read oldest first by every open board.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime))
        batch.add_column(sa.Column("acknowledged_by", sa.String(64)))
    op.create_index("ix_alert_open", "alert", ["acknowledged_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_open", table_name="alert")
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
