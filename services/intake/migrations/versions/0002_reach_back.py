"""How to reach a person back: the sender exactly as received, and unverified numbers.

A caller's `From` is kept as Twilio sent it (`contact.from_raw`) beside the normalised
`from_address`; `contact.from_verified` and `person_identifier.verified` say whether a phone
number is in a range the numbering metadata lists (False: possible only, accepted and flagged).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("from_raw", sa.String(320)))
        batch.add_column(sa.Column("from_verified", sa.Boolean))
    with op.batch_alter_table("person_identifier") as batch:
        batch.add_column(sa.Column("verified", sa.Boolean, nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("person_identifier") as batch:
        batch.drop_column("verified")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("from_verified")
        batch.drop_column("from_raw")
