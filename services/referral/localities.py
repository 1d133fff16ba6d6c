"""Postcodes to localities: the default district table and the rule file's overrides."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

LOCALITIES = ("north", "south_west", "south_east")
HUB = "hub"

# The UK postcode shape (outward code, then inward code); BFPO and overseas forms are not here.
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def normalise_postcode(raw: str) -> str | None:
    """`sw21aa` → `SW2 1AA`; None when the text is not shaped like a UK postcode."""
    match = _POSTCODE.match(re.sub(r"\s+", "", raw.upper()))
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


_SECTOR = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def is_postcode_key(key: str) -> bool:
    """True for an override key: a full postcode (`SW2 1AA`), a sector (`SW2 1`) or a district."""
    return bool(_DISTRICT.match(key) or _SECTOR.match(key)) or normalise_postcode(key) == key


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True, slots=True)
class District:
    """One postcode district of the locality data: its localities and how sure the data is."""

    district: str
    localities: tuple[str, ...]
    confidence: str


class LocalityDataError(ValueError):
    """The locality file cannot be used."""


def load_districts(path: Path) -> dict[str, District]:
    """Read the `postcode_district` rows of a locality CSV (columns as the shared data)."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise LocalityDataError(f"cannot read locality data {path}: {exc.strerror}") from exc
    needed = {"area_type", "area", "lcn_locality_inferred", "confidence"}
    if not rows or not needed <= set(rows[0]):
        raise LocalityDataError(f"locality data {path} needs the columns {sorted(needed)}")
    out: dict[str, District] = {}
    for n, row in enumerate(rows, start=2):
        if row["area_type"] != "postcode_district":
            continue
        names = tuple(_slug(p) for p in row["lcn_locality_inferred"].split("|") if p.strip())
        unknown = [name for name in names if name not in LOCALITIES]
        if not names or unknown:
            raise LocalityDataError(f"locality data {path} line {n}: unknown locality {unknown}")
        district = row["area"].strip().upper()
        out[district] = District(district, names, row["confidence"].strip() or "unknown")
    if not out:
        raise LocalityDataError(f"locality data {path} has no postcode_district rows")
    return out


def locate(
    postcode: str | None, districts: dict[str, District], overrides: dict[str, str]
) -> tuple[str, str]:
    """(locality, reason) for a postcode; anything unclear goes to the hub, never refused."""
    if not postcode or not postcode.strip():
        return HUB, "no postcode given: routed to the hub"
    norm = normalise_postcode(postcode)
    if norm is None:
        return HUB, "postcode not recognised as a UK postcode: routed to the hub"
    outward, inward = norm.split(" ")
    sector = f"{outward} {inward[0]}"
    for key in (norm, sector, outward):
        if key in overrides:
            return overrides[key], f"postcode {key} set to {overrides[key]} by the routing rules"
    found = districts.get(outward)
    if found is None:
        return HUB, f"postcode district {outward} is outside the area: routed to the hub"
    if len(found.localities) > 1:
        spans = " and ".join(found.localities)
        return HUB, f"postcode district {outward} spans {spans}: routed to the hub"
    return (found.localities[0],
            f"postcode district {outward} is in {found.localities[0]} "
            f"({found.confidence} confidence)")
