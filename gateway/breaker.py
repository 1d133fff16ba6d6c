"""A circuit breaker per service: after a few failures in a row the gateway stops waiting on a
service that is not answering and goes straight to its fallback, then tries again after a pause.

For a voice call this turns "wait out the timeout, then the fail-safe" into "the fail-safe at
once" for as long as intake is down.
"""

from __future__ import annotations

import time


class Breaker:
    def __init__(self, threshold: int = 3, cooldown_seconds: float = 5.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown_seconds
        self.failures = 0
        self.open_until = 0.0

    def allow(self) -> bool:
        """False while open; after the pause one request at a time may try (half-open)."""
        now = time.monotonic()
        if now < self.open_until:
            return False
        if self.failures >= self.threshold:
            self.open_until = now + self.cooldown  # the probe holds the door until it returns
        return True

    def succeeded(self) -> None:
        self.failures = 0
        self.open_until = 0.0

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.cooldown
