"""Finding a service: by need, near a postcode or in a locality, in a language, open now.

The database narrows by need, text and language; nearness and opening hours are decided
here, on the few services left (a borough's network is hundreds, not millions). Nearest
first: the person's postcode district, then their locality, then borough-wide services.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.referral.directory.models import Schedule
from services.referral.directory.repository import Candidate
from services.referral.localities import LOCALITIES, District, normalise_postcode

LONDON = ZoneInfo("Europe/London")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A service area named like this covers every locality.
BOROUGH_WIDE = ("lambeth", "borough")
MAX_PER_PAGE = 100


def _hhmm(value: str | None) -> str | None:
    return value[:5] if value and len(value) >= 5 else None


def open_at(schedules: Iterable[Schedule], at: datetime) -> bool:
    """Whether any weekly schedule is open at `at` (London time); no schedule: not known open."""
    local = at.astimezone(LONDON)
    day, now = DAYS[local.weekday()], local.strftime("%H:%M")
    for s in schedules:
        if s.freq not in (None, "WEEKLY"):
            continue
        days = {d.strip().upper()[-2:] for d in (s.byday or ",".join(DAYS)).split(",")}
        opens, closes = _hhmm(s.opens_at), _hhmm(s.closes_at)
        if day in days and opens and closes and opens <= now < closes:
            return True
    return False


def area_localities(areas: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for name in areas:
        slug = name.strip().lower().replace(" ", "_")
        if slug in LOCALITIES:
            out.add(slug)
        elif any(word in slug for word in BOROUGH_WIDE):
            out.update(LOCALITIES)
    return out


@dataclass(frozen=True, slots=True)
class Where:
    """Where the person is: a postcode district and/or a locality (either may be unknown)."""

    district: str | None = None
    locality: str | None = None


def where(postcode: str | None, locality: str | None,
          districts: dict[str, District]) -> Where:
    district = None
    if postcode:
        norm = normalise_postcode(postcode)
        outward = (norm.split(" ")[0] if norm else postcode.strip().upper()).replace(" ", "")
        district = outward or None
        found = districts.get(outward)
        if locality is None and found is not None and len(found.localities) == 1:
            locality = found.localities[0]
    return Where(district, locality)


def rank(c: Candidate, place: Where, districts: dict[str, District]) -> int | None:
    """0 in the person's district, 1 elsewhere in their locality, 2 covering it (or the whole
    borough) by service area; None: not near them."""
    if not place.district and not place.locality:
        return 2
    if place.district and place.district in c.districts:
        return 0
    placed: set[str] = set()
    for d in c.districts:
        placed.update(districts[d].localities if d in districts else ())
    if place.locality and place.locality in placed:
        return 1
    covered = area_localities(c.areas)
    if (place.locality and place.locality in covered) or covered >= set(LOCALITIES):
        return 2
    return None


def narrow(found: Sequence[Candidate], place: Where, districts: dict[str, District],
           open_now: datetime | None) -> list[Candidate]:
    """Keep the services near `place` (nearest first) and, when asked, open at `open_now`."""
    kept: list[tuple[int, int, Candidate]] = []
    for n, c in enumerate(found):
        r = rank(c, place, districts)
        if r is None or (open_now is not None and not open_at(c.schedules, open_now)):
            continue
        kept.append((r, n, c))
    return [c for _, _, c in sorted(kept, key=lambda t: (t[0], t[1]))]


@dataclass(frozen=True, slots=True)
class Page:
    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool


def page_of(total: int, page: int, per_page: int) -> tuple[Page, slice]:
    """The standard's paging fields for page `page` (from 1) of `per_page`, and its slice."""
    pages = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    size = max(0, min(per_page, total - start))
    return (Page(total_items=total, total_pages=pages, page_number=page, size=size,
                 first_page=page == 1, last_page=page >= pages, empty=total == 0),
            slice(start, start + per_page))
