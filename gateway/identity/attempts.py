"""Sign-in attempts limited per account and per client address (Redis when REDIS_URL, so
every gateway replica counts the same failures), with a lockout once too many fail."""

from __future__ import annotations

import logging

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


class SignInLimits:
    def __init__(self, storage: Storage, per_account: int, per_address: int,
                 lockout_minutes: int) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        self._account = RateLimitItemPerMinute(per_account, lockout_minutes)
        self._address = RateLimitItemPerMinute(per_address, lockout_minutes)

    async def locked(self, email: str, address: str) -> bool:
        """True while either the account or the address has used up its failures."""
        try:
            return not (await self._limiter.test(self._account, "signin-account", email)
                        and await self._limiter.test(self._address, "signin-address", address))
        except Exception as exc:  # a store that fails must not lock everyone out
            log.error("sign-in limit store unavailable", extra={"error": type(exc).__name__})
            return False

    async def failed(self, email: str, address: str) -> bool:
        """Count a failure; True when this one starts a lockout."""
        try:
            a = await self._limiter.hit(self._account, "signin-account", email)
            b = await self._limiter.hit(self._address, "signin-address", address)
        except Exception as exc:
            log.error("sign-in limit store unavailable", extra={"error": type(exc).__name__})
            return False
        return not (a and b)

    async def succeeded(self, email: str) -> None:
        try:
            await self._limiter.clear(self._account, "signin-account", email)
        except Exception as exc:
            log.error("sign-in limit store unavailable", extra={"error": type(exc).__name__})
