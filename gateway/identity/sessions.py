"""Sessions: a random opaque id in a cookie, only its SHA-256 stored; CSRF tokens bound to it.

A session ends after `idle` without a request of the person's own (a page's background
updates, marked `X-Livewell-Update`, do not count) and `absolute` after sign-in, whichever comes
first, and at once when it is signed out or its account is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.identity.models import StaffAccount, StaffSession

COOKIE = "lw_session"
# An anonymous browser's CSRF binding for the sign-in and invitation forms.
PRE_COOKIE = "lw_pre"
# last_seen_at is written at most this often: one write a minute, not one per request.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Person:
    """A signed-in person, as the gateway forwards them to the services."""

    account_id: str
    role: str
    keyworker_id: str | None
    name: str | None
    session_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Csrf:
    """Synchronizer tokens derived from a secret and the browser's binding (its session id, or
    its pre-session cookie): nothing to store, and useless with another browser's cookie."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"livewell-csrf:" + secret.encode()).digest()

    def token(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode(), hashlib.sha256).hexdigest()

    def valid(self, binding: str | None, token: str | None) -> bool:
        if not binding or not token:
            return False
        return hmac.compare_digest(self.token(binding), token)


class SessionStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], idle: timedelta,
                 absolute: timedelta) -> None:
        self._sessionmaker = sessionmaker
        self.idle = idle
        self.absolute = absolute

    @staticmethod
    def start(session: AsyncSession, account: StaffAccount, method: str, now: datetime) -> str:
        """Begin a session in the caller's transaction; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(id_hash=_hash(token), account_id=account.id, method=method,
                                 created_at=now, last_seen_at=now))
        return token

    async def resolve(self, token: str | None, now: datetime,
                      activity: bool = True) -> Person | None:
        """The person of a live session, None when it has ended. Only `activity` (a request
        the person made, not a page's own background update) keeps it alive: an open board
        polling every few seconds must not keep an unattended session from idling out."""
        if not token or len(token) > 100:
            return None
        async with self._sessionmaker() as db, db.begin():
            row = await db.get(StaffSession, _hash(token))
            if row is None or row.ended_at is not None:
                return None
            if now - row.last_seen_at > self.idle or now - row.created_at > self.absolute:
                row.ended_at = now
                return None
            account = await db.get(StaffAccount, row.account_id)
            if account is None or account.disabled_at is not None:
                row.ended_at = now
                return None
            if activity and now - row.last_seen_at >= _TOUCH_EVERY:
                row.last_seen_at = now
            return Person(account.id, account.role, account.keyworker_id, account.name, token)

    async def end(self, token: str, now: datetime) -> None:
        async with self._sessionmaker() as db, db.begin():
            await db.execute(update(StaffSession)
                             .where(StaffSession.id_hash == _hash(token),
                                    StaffSession.ended_at.is_(None))
                             .values(ended_at=now))
