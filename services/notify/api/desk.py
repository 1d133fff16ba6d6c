"""Handoffs for people signed in to the desk: what is offered to me, and accept or decline
from the web with the same effect and idempotency as the SMS reply.

A key worker sees only handoffs offered to them (another's is a 404, as if it did not
exist); coordinators and admins see all; keys (partners included) reach none of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.common.context import Actor
from services.common.deps import ActorDep, ClockDep, SessionDep
from services.common.errors import ProblemError
from services.notify import desk
from services.notify.deps import NotifyDep
from services.notify.models import Handoff

router = APIRouter(prefix="/api/v1/desk/handoffs", include_in_schema=False)


async def signed_in(actor: ActorDep) -> Actor:
    """People signed in at the gateway only: a key worker needs their roster link."""
    if actor.kind != "person" or actor.person_role is None:
        raise ProblemError(403, "forbidden", "Forbidden", "This is for people signed in.")
    if actor.person_role == "key_worker" and not actor.keyworker_id:
        raise ProblemError(403, "forbidden", "Forbidden",
                           "This account is not linked to a key worker.")
    return actor


PersonDep = Annotated[Actor, Depends(signed_in)]


class DeskHandoff(BaseModel):
    reference: str
    urgency: str
    respond_by: datetime
    status: str
    offered_at: datetime
    can_decide: bool
    accepted_by_me: bool


class Decision(BaseModel):
    decision: Literal["accept", "decline"]


class DecisionResult(BaseModel):
    result: str


def _view(h: Handoff, actor: Actor, now: datetime) -> DeskHandoff:
    return DeskHandoff(reference=h.reference, urgency=h.urgency, respond_by=h.respond_by,
                       status=h.status, offered_at=h.created_at,
                       can_decide=desk.may_decide(h, actor, now),
                       accepted_by_me=desk.accepted_by(h, actor))


@router.get("", response_model=list[DeskHandoff])
async def my_handoffs(session: SessionDep, actor: PersonDep, clock: ClockDep) -> list[DeskHandoff]:
    """Offers waiting for me (all open offers for coordinators and admins), soonest due first."""
    rows = await desk.offers_for(session, actor)
    now = clock.now()
    return [_view(h, actor, now) for h in rows]


@router.get("/{reference}", response_model=DeskHandoff)
async def one_handoff(reference: str, session: SessionDep, actor: PersonDep,
                      clock: ClockDep) -> DeskHandoff:
    now = clock.now()
    return _view(await desk.read(session, actor, reference, now), actor, now)


@router.post("/{reference}/decision", response_model=DecisionResult)
async def decide(reference: str, body: Decision, session: SessionDep, actor: PersonDep,
                 own: NotifyDep, clock: ClockDep) -> DecisionResult:
    """Accept or decline my offer, exactly as replying ACCEPT/DECLINE by SMS would: the same
    handoff, the same checks, a repeat answers as the SMS would (`already_accepted`)."""
    result = await desk.decide(session, own, actor, reference, body.decision, clock.now())
    return DecisionResult(result=result)
