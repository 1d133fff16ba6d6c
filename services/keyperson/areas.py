"""The localities and teams a key worker may serve: read from the routing rules in force.

Referral routes every referral to a locality (from the locality data the rules file names, or
`hub`) and a team (named in the rules file); a worker whose `localities` or `teams` hold a
value routing never produces is never offered anything, so such a value is refused.

Keyperson reads the same rules file referral uses (`LIVEWELL_ROUTING_RULES`, default the
shipped `services/referral/rules/routing.yaml`) as data, without importing referral: the file
and the locality CSV it names are re-read when the file changes, as referral does. When the
file cannot be read, the shipped defaults apply and the problem is logged.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.errors import ProblemError

log = logging.getLogger(__name__)

SHIPPED_RULES = Path(__file__).resolve().parents[1] / "referral" / "rules" / "routing.yaml"
HUB = "hub"  # where unclear and out-of-area referrals go: always a locality
DEFAULT_LOCALITIES = frozenset({"north", "south_west", "south_east", HUB})
DEFAULT_TEAMS = frozenset({"hub", "crisis_duty", "ips_alliance", "living_well_network"})


class AreaSettings(BaseSettings):
    """Where the routing rules in force live (the setting referral reads too)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    routing_rules: Path = Field(default=SHIPPED_RULES, alias="LIVEWELL_ROUTING_RULES")


@dataclass(frozen=True, slots=True)
class Areas:
    """Localities and teams routing can give a referral."""

    localities: frozenset[str]
    teams: frozenset[str]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def read_areas(rules_path: Path) -> Areas:
    """The localities (the locality data's, its overrides', and `hub`) and the teams
    (emergency, default and each rule's) of one rules file; ValueError when unusable."""
    try:
        raw: Any = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
        teams_part = raw["teams"]
        teams = {str(teams_part["emergency"]), str(teams_part["default"])}
        teams.update(str(rule["team"]) for rule in teams_part.get("rules") or [])
        places = raw["localities"]
        localities = {HUB, *(str(v) for v in (places.get("overrides") or {}).values())}
        data = (rules_path.parent / str(places["data"])).resolve()
        with data.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                localities.update(_slug(part) for part in
                                  (row.get("lcn_locality_inferred") or "").split("|")
                                  if part.strip())
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"cannot read localities and teams from {rules_path}: {exc}") from exc
    return Areas(frozenset(localities), frozenset(teams))


class AreaBook:
    """The areas in force, read again when the rules file changes (its mtime)."""

    def __init__(self, rules_path: Path | None = None) -> None:
        self.path = rules_path or AreaSettings().routing_rules
        self._stamp: float | None = None
        self._areas = Areas(DEFAULT_LOCALITIES, DEFAULT_TEAMS)

    def current(self) -> Areas:
        """The localities and teams now (the shipped defaults if the file cannot be read)."""
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            stamp = None
        if stamp is not None and stamp != self._stamp:
            try:
                self._areas = read_areas(self.path)
            except ValueError as exc:
                log.error("routing rules unreadable; default localities and teams kept",
                          extra={"event": "areas.unreadable", "error": str(exc)[:300]})
            self._stamp = stamp
        return self._areas

    def unknown(self, field: str, values: list[str]) -> list[tuple[int, str]]:
        """(position, message) for each value of `localities` or `teams` routing never
        gives. The message names the known values, never the one sent (problem details do
        not echo input)."""
        areas = self.current()
        known = areas.localities if field == "localities" else areas.teams
        what = "team" if field == "teams" else "locality"
        return [(i, f"not a {what} routing gives a referral; one of "
                    + ", ".join(sorted(known)))
                for i, v in enumerate(values) if v not in known]

    def refuse_unknown(self, changes: dict[str, Any]) -> None:
        """Refuse (422) a locality or team that routing never gives a referral: a typo would
        leave the worker (or a shift) without work for ever. Every unknown value is named; a
        shift's single `locality` or `team` is named without a position."""
        errors: list[dict[str, Any]] = [
            {"loc": [name, i], "msg": msg} for name in ("localities", "teams")
            for i, msg in self.unknown(name, changes.get(name) or [])]
        for one, many in (("locality", "localities"), ("team", "teams")):
            if changes.get(one) is not None:
                errors += [{"loc": [one], "msg": msg}
                           for _, msg in self.unknown(many, [changes[one]])]
        if errors:
            raise ProblemError(422, "validation-error", "Invalid request",
                               "; ".join(str(e["msg"]) for e in errors), errors)
