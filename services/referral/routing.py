"""Routing: from risk, needs and postcode to urgency, respond-by, locality and team.

The rules are data (`rules/routing.yaml`), validated here with pydantic; `decide()` is a pure
function of the rules, the input and the time, and explains itself with reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.referral.localities import HUB, LOCALITIES, District, is_postcode_key, locate

Urgency = Literal["emergency", "very_urgent", "urgent", "routine"]
URGENCIES: tuple[Urgency, ...] = ("routine", "urgent", "very_urgent", "emergency")  # low → high
Need = Literal["housing", "debt", "benefits", "employment", "isolation", "substance_use",
               "physical_health"]
RiskFlag = Literal["immediate_danger", "self_harm", "harm_to_others", "safeguarding"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(value: object) -> object:
    """`4h`, `24h`, `7d`, `30m` → seconds (numbers are taken as seconds)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration like 30m, 4h, 7d or 4w")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


Seconds = Annotated[float, BeforeValidator(_duration), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrgencyRules(_Strict):
    windows: dict[Urgency, Seconds] = Field(description="Time to contact the person, by urgency.")
    risk_floors: dict[RiskFlag, Urgency] = Field(
        description="The lowest urgency each risk flag allows.")
    sla_alert_at: float = Field(
        default=0.75, gt=0, lt=1,
        description="Alert the duty coordinator at this share of the window.")

    @model_validator(mode="after")
    def _every_urgency_has_a_window(self) -> UrgencyRules:
        missing = [u for u in URGENCIES if u not in self.windows]
        if missing:
            raise ValueError(f"urgency.windows is missing {missing}")
        return self


class LocalityRules(_Strict):
    data: str = Field(description="Locality CSV, relative to the rules file.")
    overrides: dict[str, str] = Field(default_factory=dict,
                                      description="Postcode, sector or district → locality.")

    @model_validator(mode="after")
    def _overrides_name_known_places(self) -> LocalityRules:
        for key, locality in self.overrides.items():
            if locality not in (*LOCALITIES, HUB):
                raise ValueError(f"override {key!r}: unknown locality {locality!r}")
            if not is_postcode_key(key):
                raise ValueError(f"override {key!r} is not a postcode, sector or district")
        return self


class TeamRule(_Strict):
    team: str = Field(min_length=1, max_length=60)
    reason: str = Field(min_length=1, max_length=200)
    needs_any: list[Need] = Field(default_factory=list)
    min_needs: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _has_a_condition(self) -> TeamRule:
        if not self.needs_any and self.min_needs is None:
            raise ValueError(f"team rule for {self.team!r} needs needs_any or min_needs")
        return self

    def matches(self, needs: set[str]) -> bool:
        """True when the needs meet this rule's condition(s)."""
        if self.needs_any and not needs.intersection(self.needs_any):
            return False
        return self.min_needs is None or len(needs) >= self.min_needs


class TeamRules(_Strict):
    emergency: str = Field(min_length=1, max_length=60, description="The crisis/duty route.")
    default: str = Field(min_length=1, max_length=60)
    rules: list[TeamRule] = Field(default_factory=list, description="First match wins.")


class Rules(_Strict):
    """A routing rules file, as written by the people who run the service."""

    version: str = Field(min_length=1, max_length=60)
    urgency: UrgencyRules
    localities: LocalityRules
    teams: TeamRules


@dataclass(frozen=True)
class RuleSet:
    """Validated rules plus the locality table they point at."""

    rules: Rules
    districts: dict[str, District]
    source: Path

    @property
    def version(self) -> str:
        return self.rules.version


@dataclass(frozen=True)
class RoutingInput:
    requested_urgency: Urgency | None
    risk: dict[str, bool]
    needs: list[str]
    postcode: str | None


@dataclass(frozen=True)
class Route:
    """The decision and why: stored with every referral."""

    urgency: Urgency
    respond_by: datetime
    sla_alert_at: datetime
    locality: str
    team: str
    rules_version: str
    reasons: list[str] = field(default_factory=list)


def _higher(a: Urgency, b: Urgency) -> Urgency:
    return a if URGENCIES.index(a) >= URGENCIES.index(b) else b


def decide_urgency(rules: UrgencyRules, requested: Urgency | None,
                   risk: dict[str, bool]) -> tuple[Urgency, list[str]]:
    """The referrer's view, raised to the floor of every risk flag set; never lowered."""
    urgency: Urgency = requested or "routine"
    reasons = [f"referrer asked for {requested}" if requested
               else "no urgency given: routine unless risk says otherwise"]
    for flag, floor in rules.risk_floors.items():
        if risk.get(flag) and _higher(floor, urgency) != urgency:
            reasons.append(f"{flag} raises urgency to {floor}")
            urgency = floor
    return urgency, reasons


def decide_team(rules: TeamRules, urgency: Urgency, needs: list[str]) -> tuple[str, str]:
    """The team for the needs (the crisis route for an emergency), with its reason."""
    if urgency == "emergency":
        return rules.emergency, "emergency: the crisis/duty route"
    wanted = set(needs)
    for rule in rules.rules:
        if rule.matches(wanted):
            return rule.team, rule.reason
    return rules.default, "no team rule matched the needs: the default team"


def decide(ruleset: RuleSet, given: RoutingInput, now: datetime) -> Route:
    """Route one referral; pure, so dry runs and rule tests see exactly what intake would."""
    rules = ruleset.rules
    urgency, reasons = decide_urgency(rules.urgency, given.requested_urgency, given.risk)
    window = timedelta(seconds=rules.urgency.windows[urgency])
    reasons.append(f"{urgency}: respond within {_human(window)}")
    locality, why = locate(given.postcode, ruleset.districts, rules.localities.overrides)
    reasons.append(why)
    team, why = decide_team(rules.teams, urgency, given.needs)
    reasons.append(why)
    return Route(urgency=urgency, respond_by=now + window,
                 sla_alert_at=now + window * rules.urgency.sla_alert_at, locality=locality,
                 team=team, rules_version=rules.version, reasons=reasons)


def _human(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
