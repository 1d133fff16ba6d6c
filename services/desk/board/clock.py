"""Clocks in words: how long something has waited, how long is left before it is due.
Every state is said in words and marked by an icon as well as a colour, never colour alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def at(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def span(seconds: float) -> str:
    minutes = max(int(seconds // 60), 0)
    hours, mins = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} {'day' if days == 1 else 'days'} {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def waited(since: str | None, now: datetime) -> str:
    start = at(since)
    return span((now - start).total_seconds()) if start else ""


def clock_time(value: str | None) -> str:
    found = at(value)
    return found.astimezone(LONDON).strftime("%H:%M %d %b") if found else ""


@dataclass(frozen=True, slots=True)
class Due:
    """Where a deadline stands: `ok`, `at_risk` or `overdue`, with words and an icon (a text
    character every system font has, not an emoji that a phone without colour fonts shows as
    an empty box)."""

    state: str
    words: str
    icon: str


def due(respond_by: str | None, now: datetime, at_risk_at: str | None = None) -> Due:
    deadline = at(respond_by)
    if deadline is None:
        return Due("ok", "", "")
    left = (deadline - now).total_seconds()
    if left <= 0:
        return Due("overdue", f"Overdue by {span(-left)}", "✖")
    risk = at(at_risk_at)
    if risk is not None and now >= risk:
        return Due("at_risk", f"At risk: {span(left)} left", "⚠")
    return Due("ok", f"{span(left)} left", "◷")
