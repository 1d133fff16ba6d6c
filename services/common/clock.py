"""Time as a dependency, so a ten-minute escalation can run in milliseconds in tests."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time plus an offset that only the test clock endpoint moves."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move time forward and wake everything that waits on the clock."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += timedelta(seconds=seconds)
        self._moved.set()
        self._moved = asyncio.Event()
        return self.now()

    async def sleep_unless(self, event: asyncio.Event, seconds: float) -> None:
        """Sleep as `sleep` does, and return as soon as `event` is set too."""
        setter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait({setter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            setter.cancel()
            sleeper.cancel()

    async def sleep(self, seconds: float) -> None:
        """Sleep, cut short when the clock is advanced."""
        moved = self._moved
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(moved.wait(), timeout=max(seconds, 0.0))
