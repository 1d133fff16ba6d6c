"""What the line promises, by urgency: one source for every channel, the routing rules.

Referral routes a referral with the rules' `urgency.windows` (its `respond_by`); intake tells a
person who texts or emails "we will reply within 7 days", notify texts "we will call you back
by <respond_by>" and alerts with a respond-by time. All of them read the windows here, from the
same rules file referral uses (`LIVEWELL_ROUTING_RULES`, default
`services/referral/rules/routing.yaml`), so a change to the rules changes every promise at
once. A changed file is picked up on the next use; a broken one keeps the windows last read.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from services.referral.routing import UrgencyRules  # the rules' own validation
from services.referral.rules import configured_rules_path

log = logging.getLogger(__name__)


def span(window: timedelta) -> tuple[str, int]:
    """`timedelta(days=7)` → ("day", 7): the unit and count every channel says a window in,
    whatever its language (the website translates these). The largest whole unit of hours or
    less is kept up to two days (24 hours, not 1 day), days beyond; else rounded minutes."""
    seconds = int(window.total_seconds())
    for unit, size, from_size in (("day", 86400, 2 * 86400), ("hour", 3600, 3600)):
        if seconds >= from_size and seconds % size == 0:
            return unit, seconds // size
    return "minute", max(1, round(seconds / 60))


def words_for(window: timedelta) -> str:
    """`timedelta(days=7)` → "within 7 days" (see `span`)."""
    unit, count = span(window)
    return f"within {count} {unit}{'' if count == 1 else 's'}"


class Promises:
    """The respond-by window of each urgency, read from the routing rules file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._windows = self._read()  # a broken file at start-up stops the service
        self._mtime = _mtime(path)

    def _read(self) -> dict[str, timedelta]:
        raw = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        urgency = UrgencyRules.model_validate((raw or {}).get("urgency"))
        return {name: timedelta(seconds=s) for name, s in urgency.windows.items()}

    def windows(self) -> dict[str, timedelta]:
        mtime = _mtime(self.path)
        if mtime != self._mtime:
            with self._lock:
                try:
                    self._windows = self._read()
                except (OSError, ValueError, yaml.YAMLError):
                    log.error("routing rules unreadable; promises keep the windows last read",
                              extra={"event": "promises.refused"})
                self._mtime = mtime
        return self._windows

    def window(self, urgency: str | None) -> timedelta:
        """The window of `urgency` (routine's for one the rules do not name)."""
        windows = self.windows()
        return windows.get(urgency or "", windows["routine"])

    def words(self, urgency: str | None) -> str:
        """"within 7 days": when someone at this urgency will hear from us."""
        return words_for(self.window(urgency))

    def respond_by(self, urgency: str | None, at: datetime) -> datetime:
        return at + self.window(urgency)


def rules_path() -> Path:
    """The routing rules file in force, as referral finds it (`LIVEWELL_ROUTING_RULES`)."""
    return configured_rules_path()


@functools.cache
def promises() -> Promises:
    """The deployment's promises (one reader a process)."""
    return Promises(rules_path())


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
