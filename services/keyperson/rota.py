"""Duty rota time rules: Europe/London wall time in, UTC stored, gaps found before they happen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
DutyRole = Literal["crisis_duty", "duty_coordinator", "backup_manager", "key_worker"]
DUTY_ROLES: tuple[DutyRole, ...] = ("crisis_duty", "duty_coordinator", "backup_manager",
                                    "key_worker")
# Who is dialled after the asked-for role when nobody in it is on duty (or nobody answers).
ESCALATION: dict[str, tuple[DutyRole, ...]] = {
    "crisis_duty": ("crisis_duty", "duty_coordinator", "backup_manager"),
    "duty_coordinator": ("duty_coordinator", "backup_manager"),
    "backup_manager": ("backup_manager",),
    "key_worker": ("key_worker",),
}
MAX_SHIFT = timedelta(hours=24)

Interval = tuple[datetime, datetime]


def to_utc(value: datetime) -> datetime:
    """An aware time as UTC; a naive one is London wall time, which must exist.

    A wall time skipped by the spring change (01:00–02:00 on the last Sunday of March) is
    refused; one repeated in autumn is taken as its first (BST) occurrence.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=LONDON, fold=0)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(LONDON).replace(tzinfo=None) != value:
        raise ValueError("that local time does not exist in London (the clocks go forward)")
    return as_utc


def to_london(value: datetime) -> datetime:
    """A UTC time as London wall time with its offset, for people reading the rota."""
    return value.astimezone(LONDON)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, in order."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def uncovered(covered: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that no interval in `covered` covers."""
    gaps: list[Interval] = []
    cursor = start
    for s, e in merge((max(s, start), min(e, end)) for s, e in covered if e > start and s < end):
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def hours(intervals: Iterable[Interval]) -> float:
    """Total length in real (elapsed) hours: a night over a clock change counts 7 or 9."""
    return round(sum((e - s).total_seconds() for s, e in intervals) / 3600, 2)
