"""The identity tables, on the gateway's own metadata (and its Alembic history)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import Base

ROLES = ("key_worker", "coordinator", "admin")


class StaffAccount(Base):
    """A person who signs in. The TOTP secret is kept to verify codes; the password only as
    an argon2 hash."""

    __tablename__ = "staff_account"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    keyworker_id: Mapped[str | None] = mapped_column(sa.String(36))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last TOTP time step used: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class StaffInvitation(Base):
    """A single-use invitation: only a SHA-256 of its token is stored."""

    __tablename__ = "staff_invitation"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    # Generated with the invitation so the QR code shown and the code checked agree.
    totp_secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StaffPasskey(Base):
    """A WebAuthn credential of an account."""

    __tablename__ = "staff_passkey"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)
    public_key: Mapped[str] = mapped_column(sa.Text)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    transports: Mapped[list[str] | None]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser: only a SHA-256 of the cookie's random id is stored."""

    __tablename__ = "staff_session"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    method: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
