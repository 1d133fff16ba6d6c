"""Outbox rows carry a claim priority (from their urgency) and their run of like failures.

The relay claims emergencies first and gives up, as a dead letter, on a row that fails the same
way too many times (services/common/outbox.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from services.common.kit_models import add_outbox_priority, drop_outbox_priority

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_priority()


def downgrade() -> None:
    drop_outbox_priority()
