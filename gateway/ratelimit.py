"""Rate limits with the `limits` library: in memory, or in Redis shared by gateway replicas."""

from __future__ import annotations

import logging
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)


class RateLimits:
    """Per-key and per-source limits. A limit store that fails lets traffic through (logged):
    refusing a crisis line because Redis blinked would be the worse failure."""

    def __init__(self, redis_url: str | None, per_key: str, anonymous: str,
                 webhook: str) -> None:
        self.storage: Storage = MemoryStorage()
        if redis_url:
            url = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
            shared = storage_from_string(url)
            assert isinstance(shared, Storage)
            self.storage = shared
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_key: RateLimitItem = parse(per_key)
        self.anonymous: RateLimitItem = parse(anonymous)
        self.webhook: RateLimitItem = parse(webhook)

    async def allow(self, item: RateLimitItem, *identity: str) -> bool:
        try:
            return bool(await self.limiter.hit(item, *identity))
        except Exception as exc:  # the store is down: fail open, loudly
            log.error("rate limit store unavailable", extra={"error": type(exc).__name__})
            return True

    async def retry_after(self, item: RateLimitItem, *identity: str) -> int:
        try:
            stats = await self.limiter.get_window_stats(item, *identity)
        except Exception:
            return 1
        return max(1, int(stats.reset_time - time.time()))
