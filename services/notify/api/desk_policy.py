"""The escalation policy in force, read-only, for coordinators and admins signed in to the
desk (key workers and keys get 403): its version, how long a reply code outlives the
respond-by time, and each urgency's steps in time order. Changing it stays a change to
`escalation.yaml` (reviewed, versioned, read at start-up)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.notify.deps import NotifyDep

router = APIRouter(prefix="/api/v1/desk/escalation", include_in_schema=False)
URGENCIES = ("emergency", "very_urgent", "urgent", "routine")


class StepRead(BaseModel):
    after_seconds: float
    action: str
    from_offer: int


class PolicyRead(BaseModel):
    version: str
    code_valid_after_respond_by: float
    urgency: dict[str, list[StepRead]]


@router.get("", response_model=PolicyRead)
async def policy_in_force(_: CoordinatorDep, own: NotifyDep) -> PolicyRead:
    by_name = {str(k): v for k, v in own.policy.urgency.items()}
    return PolicyRead(
        version=own.policy.version,
        code_valid_after_respond_by=own.policy.code_valid_after_respond_by,
        urgency={u: [StepRead(after_seconds=s.after, action=s.action, from_offer=s.from_offer)
                     for s in sorted(by_name[u], key=lambda s: s.after)]
                 for u in URGENCIES if u in by_name})
