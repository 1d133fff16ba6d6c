"""Rate limits with the `limits` library: in memory, or in Redis shared by gateway replicas."""

from __future__ import annotations

import ipaddress
import logging
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import Scope

log = logging.getLogger(__name__)


class RateLimits:
    """Per-key limits, the webhook limit, and the per-address limit on failed authentication.
    A limit store that fails lets traffic through (logged): refusing a crisis line because
    Redis blinked would be the worse failure."""

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

    async def failed(self, address: str) -> None:
        """Count a failed authentication (or a refused hostile request) against `address`."""
        await self.allow(self.anonymous, "anonymous", address)

    async def blocked(self, address: str) -> bool:
        """True while `address` is over its limit of failures; False if the store fails."""
        try:
            return not await self.limiter.test(self.anonymous, "anonymous", address)
        except Exception as exc:
            log.error("rate limit store unavailable", extra={"error": type(exc).__name__})
            return False


def trusted_networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`10.0.0.5, 10.1.0.0/16` → networks; the proxies whose `X-Forwarded-For` is believed."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in setting.split(",") if part.strip())


def source_address(scope: Scope,
                   trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The address a request came from: the socket's peer. Only when that peer is a trusted
    proxy is `X-Forwarded-For` read, right to left, to the first address that is not one of
    ours (anything left of it was written by the client and proves nothing)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            hops += [h.strip() for h in value.decode("latin-1").split(",")]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_ip(hop) else peer
    return peer


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str,
            networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
