"""Contacts are indexed by when they arrived and by sender: the monthly figures read one
month of contacts, and whether a sender with no person record was in touch before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contact_created_at", "contact", ["created_at"])
    op.create_index("ix_contact_from_address", "contact", ["from_address"])


def downgrade() -> None:
    op.drop_index("ix_contact_from_address", table_name="contact")
    op.drop_index("ix_contact_created_at", table_name="contact")
