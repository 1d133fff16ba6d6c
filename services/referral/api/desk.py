"""Referrals for people signed in to the desk: my people, a referral in full (subject,
reason, needs, risk, referrer, added information, the person's earlier referrals), and a key
worker's steps on it. Every read is audited; another worker's referral is a 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator

from services.common.audit import audit
from services.common.context import Actor
from services.common.deps import ActorDep, ClockDep, SessionDep
from services.common.errors import ProblemError
from services.referral import desk, outreach, repository
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry, Referral

router = APIRouter(prefix="/api/v1/desk", include_in_schema=False)


async def signed_in(actor: ActorDep) -> Actor:
    if actor.kind != "person" or actor.person_role is None:
        raise ProblemError(403, "forbidden", "Forbidden", "This is for people signed in.")
    return actor


PersonDep = Annotated[Actor, Depends(signed_in)]


class PersonItem(BaseModel):
    reference: str
    name: str | None
    status: str
    urgency: str
    respond_by: datetime


class Attempt(BaseModel):
    result: Literal["reached", "no_answer", "left_message", "wrong_number"]


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a note cannot be blank")
        return v


class Plan(BaseModel):
    """A support plan as the source material describes it: asset-based, agreed with them."""

    what_matters: str = Field(min_length=1, max_length=5000)
    strengths: str = Field(default="", max_length=5000)
    goals: str = Field(default="", max_length=5000)
    who_helps: str = Field(default="", max_length=5000)
    next_review: date | None = None

    @field_validator("what_matters")
    @classmethod
    def says_what_matters(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("say what matters to the person")
        return v


class Close(BaseModel):
    outcome: str = Field(min_length=1, max_length=40)
    # With `signposted`: the network service the person was signposted to (the directory's id).
    service_id: str | None = Field(default=None, min_length=1, max_length=36)

    @field_validator("outcome")
    @classmethod
    def known(cls, v: str) -> str:
        if v not in desk.outcome_codes():
            raise ValueError(f"outcome must be one of {', '.join(sorted(desk.outcome_codes()))}")
        return v


def _name(referral: Referral) -> str | None:
    s = referral.subject or {}
    name = " ".join(p for p in (s.get("given_name"), s.get("family_name")) if p)
    return name or None


@router.get("/people", response_model=list[PersonItem])
async def my_people(session: SessionDep, actor: PersonDep, clock: ClockDep) -> list[PersonItem]:
    """My open referrals (all open ones for coordinators and admins), soonest due first."""
    rows = await desk.my_people(session, actor)
    now = clock.now()
    for r in rows:
        audit(session, AuditEntry, actor, "desk_list", "referral", r.id, now)
    return [PersonItem(reference=r.reference, name=_name(r), status=r.status, urgency=r.urgency,
                       respond_by=r.respond_by) for r in rows]


@router.get("/referrals/{reference}")
async def full_referral(reference: str, session: SessionDep, actor: PersonDep,
                        clock: ClockDep) -> dict[str, Any]:
    """Everything the key worker needs to reach the person and know why (audited)."""
    r = await desk.visible(session, actor, reference)
    notes = await repository.notes(session, r.id)
    earlier = await desk.earlier(session, r)
    audit(session, AuditEntry, actor, "read_full", "referral", r.id, clock.now())
    return {
        "reference": r.reference, "status": r.status, "outcome": r.outcome,
        "urgency": r.urgency, "respond_by": r.respond_by, "locality": r.locality,
        "team": r.team, "created_at": r.created_at, "org": r.org, "source": r.source,
        "subject": r.subject or {}, "reason": r.reason, "needs": r.needs, "risk": r.risk,
        "referrer": r.referrer or {}, "person_id": r.person_id,
        "information": desk.notes_view(notes, "information"),
        "notes": desk.notes_view(notes, "note"),
        "attempts": desk.notes_view(notes, "attempt"),
        "signposts": desk.notes_view(notes, "signpost"),
        "plan": desk.plan_view(notes),
        "earlier": [{"reference": e.reference, "status": e.status, "outcome": e.outcome,
                     "created_at": e.created_at, "same_key_worker":
                         e.keyworker_id is not None and e.keyworker_id == r.keyworker_id}
                    for e in earlier],
        "visits": await _visits(session, [r, *earlier]),
        "outcomes": list(desk.outcomes()),
        "can_act": desk.may_act(actor, r),
    }


async def _visits(session: SessionDep, referrals: list[Referral]) -> list[dict[str, Any]]:
    """Outreach visits to the person on any of their referrals, newest first (their story)."""
    refs = {x.id: x.reference for x in referrals}
    found = await outreach.visits_for(session, list(refs))
    return [v.view(refs[v.referral_id])
            for v in sorted(found, key=lambda v: v.assigned_at, reverse=True)]


@router.post("/referrals/{reference}/attempts", status_code=201)
async def contact_attempt(reference: str, body: Attempt, session: SessionDep, actor: PersonDep,
                          clock: ClockDep, own: ReferralDep) -> dict[str, str]:
    r = await desk.acting(session, actor, reference)
    now = clock.now()
    await desk.record_attempt(session, own.announcer, r, body.result, actor.person_id, now)
    audit(session, AuditEntry, actor, f"attempt:{body.result}", "referral", r.id, now)
    return {"status": r.status}


@router.post("/referrals/{reference}/notes", status_code=201)
async def add_note(reference: str, body: Note, session: SessionDep, actor: PersonDep,
                   clock: ClockDep) -> dict[str, str]:
    r = await desk.acting(session, actor, reference)
    now = clock.now()
    desk.add_note(session, r, body.text, actor.person_id, now)
    audit(session, AuditEntry, actor, "note", "referral", r.id, now)
    return {"status": r.status}


@router.post("/referrals/{reference}/plan", status_code=201)
async def save_plan(reference: str, body: Plan, session: SessionDep, actor: PersonDep,
                    clock: ClockDep) -> dict[str, str]:
    r = await desk.acting(session, actor, reference)
    now = clock.now()
    plan = body.model_dump(mode="json")
    desk.save_plan(session, r, {k: str(v or "") for k, v in plan.items()}, actor.person_id, now)
    audit(session, AuditEntry, actor, "support_plan", "referral", r.id, now)
    return {"status": r.status}


@router.post("/referrals/{reference}/close")
async def close(reference: str, body: Close, session: SessionDep, actor: PersonDep,
                clock: ClockDep, own: ReferralDep) -> dict[str, str]:
    r = await desk.acting(session, actor, reference)
    now = clock.now()
    await desk.close(session, own.announcer, r, body.outcome, body.service_id, actor, now)
    audit(session, AuditEntry, actor, "close", "referral", r.id, now)
    return {"status": r.status}




# Asked by intake before it shows a person's contacts to someone signed in: referral knows
# which key worker holds which person's referral; intake does not.
internal_router = APIRouter(prefix="/internal/desk", include_in_schema=False)


class Access(BaseModel):
    allowed: bool


@internal_router.get("/access", response_model=Access)
async def person_access(person_id: str, keyworker_id: str, session: SessionDep) -> Access:
    """Whether `keyworker_id` holds (or held) a referral of `person_id`."""
    return Access(allowed=await desk.holds_person(session, keyworker_id, person_id))
