"""The routing rules in force, readable, for coordinators and admins signed in to the desk (key
workers and keys get 403), and the dry run: how a referral would be routed now, nothing saved.
The dry run is the partner API's own handler, so the desk sees exactly what a referral gets.
Changing the rules stays a change to the YAML file (reviewed, versioned)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep
from services.referral.api import routing
from services.referral.deps import ReferralDep
from services.referral.routing import URGENCIES
from services.referral.schemas import DryRunRequest, RouteRead

router = APIRouter(prefix="/api/v1/desk/routing", include_in_schema=False)


class Window(BaseModel):
    urgency: str
    respond_within: str
    alert_after: str


class TeamRuleRead(BaseModel):
    team: str
    when: str
    reason: str


class RulesRead(BaseModel):
    version: str
    source: str
    last_error: str | None
    windows: list[Window]
    risk_floors: dict[str, str]
    sla_alert_at: float
    localities: dict[str, list[str]]
    overrides: dict[str, str]
    emergency_team: str
    default_team: str
    team_rules: list[TeamRuleRead]


@router.get("", response_model=RulesRead)
async def rules_in_force(_: CoordinatorDep, own: ReferralDep) -> RulesRead:
    """The rules in force, each part in words as the YAML says it."""
    current = own.rules.ruleset
    r = current.rules
    windows = []
    for urgency in reversed(URGENCIES):
        seconds = r.urgency.windows.get(urgency)
        if seconds is not None:
            windows.append(Window(
                urgency=urgency, respond_within=human_window(timedelta(seconds=seconds)),
                alert_after=human_window(timedelta(seconds=round(seconds
                                                                 * r.urgency.sla_alert_at)))))
    localities: dict[str, list[str]] = {}
    for d in sorted(current.districts.values(), key=lambda d: d.district):
        for loc in d.localities:
            localities.setdefault(loc, []).append(d.district)
    return RulesRead(
        version=current.version, source=current.source.name, last_error=own.rules.last_error,
        windows=windows, risk_floors=dict(r.urgency.risk_floors),
        sla_alert_at=r.urgency.sla_alert_at, localities=dict(sorted(localities.items())),
        overrides=dict(r.localities.overrides), emergency_team=r.teams.emergency,
        default_team=r.teams.default,
        team_rules=[TeamRuleRead(team=t.team, reason=t.reason, when=_when(t.needs_any,
                                                                         t.min_needs))
                    for t in r.teams.rules])


def _when(needs_any: Sequence[str], min_needs: int | None) -> str:
    parts = []
    if needs_any:
        parts.append("any of: " + ", ".join(n.replace("_", " ") for n in needs_any))
    if min_needs:
        parts.append(f"{min_needs} or more needs")
    return " and ".join(parts)  # a rule has at least one condition; both must hold


def human_window(window: timedelta) -> str:
    """A window as the desk says it: whole days, hours or minutes where it divides."""
    seconds = int(window.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit if n != 1 else unit[:-1]}"
    minutes = seconds / 60
    return f"{minutes:.0f} minutes"


@router.post("/dry-run", response_model=RouteRead)
async def dry_run(body: DryRunRequest, actor: CoordinatorDep, clock: ClockDep,
                  own: ReferralDep) -> RouteRead:
    return await routing.dry_run(body, actor, clock, own)
