"""Assignments for staff: read one with its reasons, ask "who would get this, and why"."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep, StaffDep
from services.common.errors import Conflict, NotFound
from services.keyperson import assignment
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, AuditEntry
from services.keyperson.ranking import Need
from services.keyperson.schemas import AssignmentRead, ExplainRequest, Explanation

router = APIRouter(prefix="/api/v1/assignments", tags=["assignments"])


@router.post("/explain", response_model=Explanation)
async def explain(body: ExplainRequest, session: SessionDep, _: StaffDep,
                  clock: ClockDep) -> Explanation:
    """Who would be given a referral like this now, and why: the ranked candidates with the
    reasons for each, and the workers left out with why. Changes nothing."""
    now = clock.now()
    link = await repo.link_for(session, body.person_id) if body.person_id else None
    holders = await repo.holders_of(session, body.person_id) if body.person_id else frozenset()
    need = Need(body.locality, body.team, tuple(body.skills), body.urgency,
                link.keyworker_id if link else None, holders=holders)
    respond_by = body.respond_by or now + timedelta(hours=72)
    choice = await assignment.choose(session, need, now, respond_by, dry_run=True)
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
    a = await repo.assignment_for(session, referral_id)
    if a is None:
        raise NotFound("assignment for that referral")
    audit(session, AuditEntry, actor, "read", "assignment", a.id, clock.now())
    return a


@router.post("/{referral_id}/keep-cover", response_model=AssignmentRead)
async def keep_cover(referral_id: str, session: SessionDep, actor: StaffDep,
                     clock: ClockDep) -> Assignment:
    """The person wishes to stay with the worker covering them: make that worker their key
    person, so continuity no longer returns them to the previous one."""
    now = clock.now()
    a = await repo.assignment_for(session, referral_id, for_update=True)
    if a is None:
        raise NotFound("assignment for that referral")
    if a.cover_for is None or a.keyworker_id is None or a.status not in ("offered", "accepted"):
        raise Conflict("This referral is not held by a covering worker.")
    a.cover_for, a.updated_at = None, now
    if a.status == "accepted" and a.person_id is not None:
        await assignment.set_link(session, a.person_id, a.keyworker_id, now)
    audit(session, AuditEntry, actor, "keep_cover", "assignment", a.id, now)
    return a


@router.post("/{referral_id}/reassign", response_model=AssignmentRead)
async def reassign(referral_id: str, session: SessionDep, actor: StaffDep,
                   clock: ClockDep) -> Assignment:
    """Run the assignment rules again for an open referral — for one left `unassigned` or
    held by the duty coordinator once a worker is free. Whoever holds it lets go; the best
    candidate now (possibly the same worker) gets a new handoff."""
    now = clock.now()
    a = await assignment.retry(session, referral_id, now)
    audit(session, AuditEntry, actor, "reassign", "assignment", a.id, now)
    return a
