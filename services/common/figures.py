"""Monthly figures: the month's bounds, how each service's part is composed into the one
object of the contract ("Monthly figures"), and disclosure control for publication.

Each service computes its own part from its own tables; nothing here reads a table.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SUPPRESSED = "*"
SMALL = 8  # a median or percentage over fewer people than this is not published
# Internal keys of a service's part: the people it saw, composed across services, never shown.
PEOPLE = "people"
PEOPLE_FIRST_KNOWN = "people_first_known"


@dataclass(frozen=True, slots=True)
class Month:
    """A Europe/London calendar month, as UTC bounds [start, end)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.match(text)
        if found is None:
            raise ValueError("month must be YYYY-MM, e.g. 2026-11")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = moment.astimezone(LONDON)
        return cls(local.year, local.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=LONDON).astimezone(UTC)

    @property
    def end(self) -> datetime:
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(year, month, 1, tzinfo=LONDON).astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return self.start <= aware < self.end

    def previous(self, count: int) -> list[Month]:
        """This month and the `count - 1` before it, oldest first."""
        out: list[Month] = []
        year, month = self.year, self.month
        for _ in range(count):
            out.append(Month(year, month))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return out[::-1]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def median(values: Sequence[float]) -> float | None:
    # Always a float: an int here would be taken for a count and rounded for publication.
    return round(float(statistics.median(values)), 2) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: a value that really occurred."""
    if not values:
        return None
    ordered = sorted(values)
    return round(float(ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]), 2)


def empty(month: Month) -> dict[str, Any]:
    """The contract's object with nothing counted."""
    return {
        "month": str(month), "people_supported": 0, "people_new": 0,
        "contacts": {"voice": 0, "sms": 0, "email": 0, "web": 0},
        "referrals": {"total": 0, "by_source": {}, "by_urgency": {}, "by_locality": {}},
        "time_to_contact_hours": {"n": 0, "median": None, "p90": None},
        "respond_by": {},
        "closed_by_outcome": {},
        "handoffs": {"offered": 0, "accepted": 0, "declined": 0,
                     "median_minutes_to_accept": None},
        "continuity": {"returning_people": 0, "same_key_worker": 0},
        "crisis_calls": {"total": 0, "to_a_human_within_60s": 0},
        "signposted": {},
        # Beyond the contract's figures (added, never renamed): referral's outreach visits.
        "outreach_visits": {"assigned": 0, "by_outcome": {}},
    }


def compose(month: Month, parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The month's figures from each service's part. People are counted once across services:
    parts name the (internal) ids of the people they saw, and intake names who was first known
    this month."""
    figures = empty(month)
    people: set[str] = set()
    first_known: set[str] = set()
    for part in parts:
        for key, value in part.items():
            if key == PEOPLE:
                people.update(value)
            elif key == PEOPLE_FIRST_KNOWN:
                first_known.update(value)
            elif isinstance(value, Mapping) and isinstance(figures.get(key), dict):
                figures[key].update(value)
            else:
                figures[key] = value
    figures["people_supported"] = len(people)
    figures["people_new"] = len(people & first_known)
    return figures


def _count(value: int) -> int | str:
    if value == 0:
        return 0
    if value <= 7:
        return SUPPRESSED
    return int(5 * math.floor(value / 5 + 0.5))


def _percent(part: int | str, whole: int | str, people: int) -> float | str | None:
    if people < SMALL or isinstance(part, str) or isinstance(whole, str) or not whole:
        return SUPPRESSED if people else None
    return round(100 * part / whole, 1)


def publishable(figures: Mapping[str, Any]) -> dict[str, Any]:
    """NHS disclosure control: counts 1-7 become `*`, others are rounded to the nearest 5;
    percentages come from the rounded counts; a median, percentile or percentage over fewer
    than 8 people is suppressed."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        return _count(value)

    out: dict[str, Any] = {k: walk(v, k) for k, v in figures.items()}
    ttc = figures["time_to_contact_hours"]
    if ttc["n"] < SMALL:
        out["time_to_contact_hours"].update(median=SUPPRESSED if ttc["n"] else None,
                                            p90=SUPPRESSED if ttc["n"] else None)
    handoffs = figures["handoffs"]
    if handoffs["accepted"] < SMALL:
        out["handoffs"]["median_minutes_to_accept"] = (
            SUPPRESSED if handoffs["accepted"] else None)
    for urgency, row in figures["respond_by"].items():
        published = out["respond_by"][urgency]
        published["percent_in_time"] = _percent(published["contacted_in_time"],
                                                published["referrals"], row["referrals"])
    calls = figures["crisis_calls"]
    out["crisis_calls"]["percent_within_60s"] = _percent(
        out["crisis_calls"]["to_a_human_within_60s"], out["crisis_calls"]["total"],
        calls["total"])
    out["disclosure_control"] = ("counts 1-7 shown as *, others rounded to the nearest 5; "
                                 "medians and percentages over fewer than 8 people suppressed")
    return out


def rows(figures: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The figures as (measure, breakdown, value) rows, for CSV."""
    out: list[tuple[str, str, str]] = []

    def emit(measure: str, breakdown: str, value: Any) -> None:
        out.append((measure, breakdown, "" if value is None else str(value)))

    for key, value in figures.items():
        if key in ("month", "disclosure_control"):
            continue
        if not isinstance(value, Mapping):
            emit(key, "", value)
            continue
        for sub, inner in value.items():
            if isinstance(inner, Mapping):
                for leaf, leaf_value in inner.items():
                    emit(f"{key}.{sub}", leaf, leaf_value)
            else:
                emit(key, sub, inner)
    return out


def as_csv(figures: Mapping[str, Any]) -> str:
    """The figures as CSV: a `measure,breakdown,value` header, then `rows()`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("measure", "breakdown", "value"))
    writer.writerows(rows(figures))
    return buffer.getvalue()
