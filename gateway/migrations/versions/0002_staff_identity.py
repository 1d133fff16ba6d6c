"""People who sign in: staff accounts, invitations, passkeys and sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
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
    op.create_table(
        "staff_account",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("keyworker_id", sa.String(36)),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_last_step", sa.BigInteger()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("enrolled_at", UTCDateTime),
        sa.Column("disabled_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_staff_account"),
        sa.UniqueConstraint("email", name="uq_staff_account_email"),
    )
    op.create_table(
        "staff_invitation",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_staff_invitation"),
        sa.UniqueConstraint("token_hash", name="uq_staff_invitation_token_hash"),
    )
    op.create_index("ix_staff_invitation_account_id", "staff_invitation", ["account_id"])
    op.create_table(
        "staff_passkey",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", JSONType),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_staff_passkey"),
        sa.UniqueConstraint("credential_id", name="uq_staff_passkey_credential_id"),
    )
    op.create_index("ix_staff_passkey_account_id", "staff_passkey", ["account_id"])
    op.create_table(
        "staff_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id_hash", name="pk_staff_session"),
    )
    op.create_index("ix_staff_session_account_id", "staff_session", ["account_id"])


def downgrade() -> None:
    for table in ("staff_session", "staff_passkey", "staff_invitation", "staff_account"):
        op.drop_table(table)
