"""Assignments for staff: read one with its reasons, ask "who would get this, and why"."""

from __future__ import annotations

from fastapi import APIRouter

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.keyperson import assignment
from services.keyperson.models import Assignment
from services.keyperson.schemas import AssignmentRead, ExplainRequest, Explanation

router = APIRouter(prefix="/api/v1/assignments", tags=["assignments"])


@router.post("/explain", response_model=Explanation)
async def explain(body: ExplainRequest, session: SessionDep, _: StaffDep,
                  clock: ClockDep) -> Explanation:
    """Who would be given a referral like this now, and why: the ranked candidates with the
    reasons for each, and the workers left out with why. Changes nothing."""
    choice = await assignment.explain(session, body, clock.now())
    return Explanation(
        keyworker_id=choice.worker.id if choice.worker else None, via=choice.via,
        reasons=choice.reasons,
        candidates=[c.as_dict(i + 1) for i, c in enumerate(choice.ranking.ordered[:20])],
        excluded=choice.ranking.excluded)


@router.get("/{referral_id}", response_model=AssignmentRead)
async def get_assignment(referral_id: str, session: SessionDep, actor: StaffDep,
                         clock: ClockDep) -> Assignment:
    """The key worker assignment of one referral: who holds it, by which rule (`via`), the
    reasons, and the ranked candidates as they stood at the last (re)assignment."""
    return await assignment.read_as(session, referral_id, actor, clock.now())


@router.post("/{referral_id}/keep-cover", response_model=AssignmentRead)
async def keep_cover(referral_id: str, session: SessionDep, actor: StaffDep,
                     clock: ClockDep) -> Assignment:
    """The person wishes to stay with the worker covering them: make that worker their key
    person, so continuity no longer returns them to the previous one."""
    return await assignment.keep_cover(session, referral_id, actor, clock.now())


@router.post("/{referral_id}/reassign", response_model=AssignmentRead)
async def reassign(referral_id: str, session: SessionDep, actor: StaffDep,
                   clock: ClockDep) -> Assignment:
    """Run the assignment rules again for an open referral — for one left `unassigned` or
    held by the duty coordinator once a worker is free. Whoever holds it lets go; the best
    candidate now (possibly the same worker) gets a new handoff."""
    return await assignment.reoffer_on_request(session, referral_id, actor, clock.now())
