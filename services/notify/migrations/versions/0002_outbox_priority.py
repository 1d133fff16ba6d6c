"""Outbox rows and outgoing messages carry a claim priority (from their urgency); outbox rows
also their run of like failures.

The relay and the dispatcher claim emergencies first; the relay gives up, as a dead letter, on
a row that fails the same way too many times (services/common/outbox.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.kit_models import add_outbox_priority, drop_outbox_priority

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_priority()
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False,
                                   server_default=sa.text("2")))


def downgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.drop_column("priority")
    drop_outbox_priority()
