"""Rate limits with the `limits` library: in memory, or in Redis shared by gateway replicas."""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import Scope

from gateway.routes import Route

log = logging.getLogger(__name__)


class RateLimits:
    """Per-key limits, the webhook limit, and the per-address limit on failed authentication.
    A limit store that fails lets traffic through (logged): refusing a crisis line because
    Redis blinked would be the worse failure."""

    def __init__(self, redis_url: str | None, per_key: str, anonymous: str,
                 webhook: str, public_pages: str = "600/minute",
                 public_forms: str = "10/minute") -> None:
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
        # Public page views are counted in this process, not in the shared store: they are
        # the bulk of public traffic, a store round trip per view was most of the gateway's
        # work on a page, and an extra view from a shared address costs next to nothing.
        self.public_pages = LocalWindow(parse(public_pages))
        self.public_forms: RateLimitItem = parse(public_forms)

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


class LocalWindow:
    """A per-address limit counted in this process: a sliding window approximated from the
    current and the previous fixed window (the previous one weighted by how much of it is
    still inside the sliding window), O(1) a request, with no lock and no store. Replicas
    count separately, so behind N gateways an address gets up to N times the limit."""

    def __init__(self, item: RateLimitItem,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.item = item
        self.limit = item.amount
        self.span = float(item.get_expiry())
        self._clock = clock
        self._window = int(clock() // self.span)
        self._current: dict[str, int] = {}
        self._previous: dict[str, int] = {}

    def _roll(self, now: float) -> int:
        window = int(now // self.span)
        if window != self._window:
            # Only the window just ended still counts; anything older is forgotten, so memory
            # holds at most two windows' worth of addresses.
            self._previous = self._current if window == self._window + 1 else {}
            self._current = {}
            self._window = window
        return window

    def _weighted(self, address: str, now: float, window: int) -> float:
        into = now / self.span - window  # how far into the current window, 0..1
        return self._previous.get(address, 0) * (1.0 - into) + self._current.get(address, 0)

    def allow(self, address: str) -> bool:
        """Counts one request from `address`; False (and not counted) when over the limit."""
        now = self._clock()
        window = self._roll(now)
        if self._weighted(address, now, window) + 1 > self.limit:
            return False
        self._current[address] = self._current.get(address, 0) + 1
        return True

    def retry_after(self, address: str) -> int:
        """Whole seconds until `address` may make one more request."""
        now = self._clock()
        window = self._roll(now)
        into = now / self.span - window
        previous, current = self._previous.get(address, 0), self._current.get(address, 0)
        if previous and current + 1 <= self.limit:
            # The previous window's weight falls until one more fits.
            needed = 1.0 - (self.limit - current - 1) / previous
            return max(1, math.ceil((needed - into) * self.span))
        return max(1, math.ceil((1.0 - into) * self.span))  # the next window, at least


# Public POSTs that keep nothing: the self-assessment is scored and forgotten, so it counts as
# a page view; any other public POST (the contact form) is a form sent to us.
READ_ONLY_POSTS = frozenset({"/self-assessment"})


def public_form(route: Route, method: str) -> bool:
    """True when a public request sends us something (its own, tighter limit)."""
    return method not in ("GET", "HEAD") and route.prefix not in READ_ONLY_POSTS


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
