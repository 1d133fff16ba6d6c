"""Staff accounts: invite, enrol (password + authenticator app), verify, disable."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.models import ROLES, StaffAccount, StaffInvitation, StaffSession
from services.common.ids import new_id

_HASHER = PasswordHasher()
# A hash to verify against when there is no account, so both answers take the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOTP_STEP = 30


class AccountError(ValueError):
    """Bad input to an account operation; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(AccountError):
    """A change refused by who asks or what it would leave (yourself, the last admin)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class Invitation:
    account: StaffAccount
    token: str
    expires_at: datetime


async def invite(session: AsyncSession, *, email: str, role: str, keyworker_id: str | None,
                 name: str | None, now: datetime, valid_hours: float) -> Invitation:
    """Create (or re-invite) an account and a single-use invitation; earlier invitations of
    the same account stop working."""
    email = normal_email(email)
    if not _EMAIL.match(email):
        raise AccountError("email", "Enter an email address like name@example.org.")
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    if role == "key_worker" and not keyworker_id:
        raise AccountError("keyworker_id", "A key worker's account needs --keyworker-id.")
    account = await session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    if account is None:
        account = StaffAccount(id=new_id(), email=email, name=name, role=role,
                               keyworker_id=keyworker_id, created_at=now)
        session.add(account)
    else:
        account.role, account.keyworker_id = role, keyworker_id
        account.name = name or account.name
        account.disabled_at = None
    await session.execute(update(StaffInvitation)
                          .where(StaffInvitation.account_id == account.id,
                                 StaffInvitation.used_at.is_(None))
                          .values(used_at=now))
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=valid_hours)
    session.add(StaffInvitation(id=new_id(), token_hash=token_hash(token), account_id=account.id,
                                totp_secret=pyotp.random_base32(), created_at=now,
                                expires_at=expires))
    await session.flush()
    return Invitation(account, token, expires)


async def open_invitation(session: AsyncSession, token: str,
                          now: datetime) -> tuple[StaffInvitation, StaffAccount] | None:
    """The live invitation of `token` and its account, or None (unknown, used or expired)."""
    inv = await session.scalar(select(StaffInvitation)
                               .where(StaffInvitation.token_hash == token_hash(token)))
    if inv is None or inv.used_at is not None or inv.expires_at <= now:
        return None
    account = await session.get(StaffAccount, inv.account_id)
    if account is None or account.disabled_at is not None:
        return None
    return inv, account


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise AccountError("password", f"Your password must be at least {min_length} characters.")
    if len(password) > 256:
        raise AccountError("password", "Your password must be at most 256 characters.")


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to (this one or either neighbour), or None: RFC 6238,
    SHA-1, 6 digits, 30 s. A step at or before `last_step` is refused (no replay)."""
    code = code.replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP
    for step in (current, current - 1, current + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(
                totp.at(step * TOTP_STEP), code):
            return step
    return None


async def enrol(session: AsyncSession, inv: StaffInvitation, account: StaffAccount, *,
                password: str, code: str, now: datetime, min_password_length: int) -> None:
    """Set the password and the authenticator app, and use up the invitation."""
    check_password(password, min_password_length)
    step = totp_step(inv.totp_secret, code, now, None)
    if step is None:
        raise AccountError("code", "Enter the 6-digit code your authenticator app shows now.")
    account.password_hash = _HASHER.hash(password)
    account.totp_secret, account.totp_last_step = inv.totp_secret, step
    account.enrolled_at = account.enrolled_at or now
    inv.used_at = now


async def verify(session: AsyncSession, *, email: str, password: str, code: str,
                 now: datetime) -> StaffAccount | None:
    """The account when email, password and authenticator code all match; None otherwise,
    with no hint of which was wrong."""
    account = await session.scalar(select(StaffAccount)
                                   .where(StaffAccount.email == normal_email(email)))
    stored = account.password_hash if account is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or account.disabled_at is not None or not account.totp_secret:
        return None
    step = totp_step(account.totp_secret, code, now, account.totp_last_step)
    if step is None:
        return None
    account.totp_last_step = step
    if _HASHER.check_needs_rehash(stored or ""):
        account.password_hash = _HASHER.hash(password)
    return account


async def disable(session: AsyncSession, email: str, now: datetime) -> StaffAccount | None:
    """Disable the account and end its sessions at once; None when there is no such account."""
    account = await session.scalar(select(StaffAccount)
                                   .where(StaffAccount.email == normal_email(email)))
    if account is None:
        return None
    account.disabled_at = account.disabled_at or now
    await end_sessions(session, account_ids=[account.id], now=now)
    return account


async def disable_keyworker(session: AsyncSession, keyworker_id: str,
                            now: datetime) -> list[str]:
    """A key worker left the roster: disable the accounts linked to them, end their sessions."""
    ids = list((await session.scalars(select(StaffAccount.id).where(
        StaffAccount.keyworker_id == keyworker_id, StaffAccount.disabled_at.is_(None)))).all())
    if ids:
        await session.execute(update(StaffAccount).where(StaffAccount.id.in_(ids))
                              .values(disabled_at=now))
        await end_sessions(session, account_ids=ids, now=now)
    return ids


async def end_sessions(session: AsyncSession, *, account_ids: list[str], now: datetime) -> None:
    await session.execute(update(StaffSession)
                          .where(StaffSession.account_id.in_(account_ids),
                                 StaffSession.ended_at.is_(None))
                          .values(ended_at=now))


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account as the lists show it: its live sessions and when it last signed in."""

    account: StaffAccount
    live_sessions: int
    last_sign_in: datetime | None

    @property
    def status(self) -> str:
        a = self.account
        return "disabled" if a.disabled_at else "active" if a.enrolled_at else "invited"


async def list_accounts(session: AsyncSession) -> list[AccountRow]:
    """Every account with its number of live sessions and its last sign-in."""
    live = (select(StaffSession.account_id, func.count().label("n"))
            .where(StaffSession.ended_at.is_(None)).group_by(StaffSession.account_id).subquery())
    last = (select(StaffSession.account_id, func.max(StaffSession.created_at).label("at"))
            .group_by(StaffSession.account_id).subquery())
    rows = await session.execute(select(StaffAccount, func.coalesce(live.c.n, 0), last.c.at)
                                 .outerjoin(live, live.c.account_id == StaffAccount.id)
                                 .outerjoin(last, last.c.account_id == StaffAccount.id)
                                 .order_by(StaffAccount.created_at, StaffAccount.id))
    return [AccountRow(a, int(n), at) for a, n, at in rows.all()]


async def _other_active_admins(session: AsyncSession, account_id: str) -> int:
    """Active admins besides this account, their rows locked (PostgreSQL): two admins
    disabling each other at once must not both succeed and leave none."""
    ids = (await session.scalars(select(StaffAccount.id).where(
        StaffAccount.role == "admin", StaffAccount.disabled_at.is_(None))
        .order_by(StaffAccount.id).with_for_update())).all()
    return len([i for i in ids if i != account_id])


async def disable_by(session: AsyncSession, account_id: str, *, by: str,
                     now: datetime) -> StaffAccount | None:
    """An admin disables an account (its sessions end at once); None when there is none.
    Nobody disables themselves, and the last active admin stays: the desk must never be
    left with nobody able to manage it."""
    account = await session.get(StaffAccount, account_id, with_for_update=True)
    if account is None:
        return None
    if account.id == by:
        raise NotAllowed("account", "You cannot disable your own account.")
    if account.role == "admin" and account.disabled_at is None and not (
            await _other_active_admins(session, account.id)):
        raise NotAllowed("account", "This is the last admin: make someone else an admin "
                                      "first.")
    account.disabled_at = account.disabled_at or now
    await end_sessions(session, account_ids=[account.id], now=now)
    return account


async def change_role(session: AsyncSession, account_id: str, *, role: str,
                      keyworker_id: str | None, by: str) -> StaffAccount | None:
    """Give an account another role (and key worker link); None when there is no account.
    It takes effect on their next request: the session reads the role each time."""
    if role not in ROLES:
        raise AccountError("role", "Choose a role")
    keyworker_id = keyworker_id or None
    if role == "key_worker" and not keyworker_id:
        raise AccountError("keyworker_id", "Choose the key worker this account is for")
    account = await session.get(StaffAccount, account_id, with_for_update=True)
    if account is None:
        return None
    if account.role == "admin" and role != "admin":
        if account.id == by:
            raise NotAllowed("role", "You cannot take away your own admin role.")
        if account.disabled_at is None and not await _other_active_admins(session, account.id):
            raise NotAllowed("role", "This is the last admin: make someone else an admin "
                                       "first.")
    account.role, account.keyworker_id = role, keyworker_id
    await session.flush()
    return account
