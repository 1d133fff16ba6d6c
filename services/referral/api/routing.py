"""Routing rules: try a decision without saving, see and reload the rules in force."""

from __future__ import annotations

from fastapi import APIRouter

from services.common.deps import AdminDep, ClockDep, PartnerDep, StaffDep
from services.common.errors import ProblemError
from services.referral.deps import ReferralDep
from services.referral.routing import RoutingInput, decide
from services.referral.schemas import DryRunRequest, ReloadAnswer, RouteRead, RulesStatus

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


@router.post("/dry-run", response_model=RouteRead)
async def dry_run(body: DryRunRequest, _: PartnerDep, clock: ClockDep,
                  own: ReferralDep) -> RouteRead:
    """How a referral with these risk flags, needs and postcode would be routed now, with the
    reasons and the rules version; nothing is saved."""
    route = decide(own.rules.ruleset, RoutingInput(body.urgency, body.risk.model_dump(),
                                               list(body.needs), body.postcode), clock.now())
    return RouteRead(urgency=route.urgency, respond_by=route.respond_by, locality=route.locality,
                     team=route.team, rules_version=route.rules_version, reasons=route.reasons)


@router.get("/rules", response_model=RulesStatus)
async def rules_status(_: StaffDep, own: ReferralDep) -> RulesStatus:
    """The rules version in force, its file, and why the last change was refused (if it was)."""
    current = own.rules.ruleset
    return RulesStatus(version=current.version, source=str(current.source),
                       last_error=own.rules.last_error)


@router.post("/reload", response_model=ReloadAnswer)
async def reload_rules(_: AdminDep, own: ReferralDep) -> ReloadAnswer:
    """Read the rules file again now (it is also picked up by itself when it changes). A file
    that does not validate is refused with the reason, and the rules in force stay. Admin keys
    only: the rules decide how fast every referral must be answered."""
    result = own.rules.reload()
    if result.error:
        raise ProblemError(422, "rules-refused", "Routing rules refused",
                           f"{result.error}. The rules in force stay at version {result.version}.")
    return ReloadAnswer(version=result.version, changed=result.changed)
