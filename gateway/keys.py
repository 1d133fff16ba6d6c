"""API keys: created once and shown once, stored as SHA-256, looked up through a short cache.

The secret is 32 random bytes, so a fast hash is the right one (nothing to brute-force);
the cache keeps a database round trip off every request, and is short so a revoked key stops
working within seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.models import ApiKey
from services.common.ids import new_id

ROLES = ("partner", "staff", "admin")
KEY_PREFIX = "lw"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    org: str
    role: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    """`lw_<prefix>_<secret>` → (prefix, secret), or None if it is not shaped like a key."""
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(parts[2]) < 20:
        return None
    return parts[1], parts[2]


def new_key(session: AsyncSession, org: str, role: str, name: str | None,
            now: datetime) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not org.strip():
        raise ValueError("organisation must not be empty")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")
    row = ApiKey(id=new_id(), prefix=prefix, secret_hash=_hash(secret), org=org.strip(),
                 role=role, name=name, created_at=now, revoked_at=None)
    session.add(row)
    return row, f"{KEY_PREFIX}_{prefix}_{secret}"


async def revoke(session: AsyncSession, key_id_or_prefix: str, now: datetime) -> bool:
    """Revoke by id or prefix; True when a live key was revoked."""
    result = await session.execute(
        update(ApiKey)
        .where((ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix),
               ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


class KeyStore:
    """Verifies bearer keys; positive and negative answers are cached for `ttl` seconds."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ttl: float) -> None:
        self._sessionmaker = sessionmaker
        self._ttl = ttl
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def verify(self, token: str) -> KeyInfo | None:
        parts = split_key(token)
        if parts is None:
            return None
        prefix, secret = parts
        row = await self._lookup(prefix)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        return KeyInfo(id=row.id, org=row.org, role=row.role)

    async def _lookup(self, prefix: str) -> ApiKey | None:
        now = time.monotonic()
        hit = self._cache.get(prefix)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._sessionmaker() as session:
            row = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[prefix] = (now + self._ttl, row)
        return row
