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
from sqlalchemy import select

from services.common.audit import audit
from services.common.context import Actor
from services.common.deps import ActorDep, ClockDep, SessionDep
from services.common.errors import NotFound, ProblemError
from services.notify import replies
from services.notify.deps import NotifyDep
from services.notify.models import OPEN, AuditEntry, Handoff

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
    mine = h.keyworker_id == actor.keyworker_id
    return DeskHandoff(reference=h.reference, urgency=h.urgency, respond_by=h.respond_by,
                       status=h.status, offered_at=h.created_at,
                       can_decide=mine and h.status == OPEN and now <= h.code_expires_at,
                       accepted_by_me=mine and h.status == "accepted")


@router.get("", response_model=list[DeskHandoff])
async def my_handoffs(session: SessionDep, actor: PersonDep, clock: ClockDep) -> list[DeskHandoff]:
    """Offers waiting for me (all open offers for coordinators and admins), soonest due first."""
    stmt = select(Handoff).where(Handoff.status == OPEN)
    if not actor.sees_everyone:
        stmt = stmt.where(Handoff.keyworker_id == actor.keyworker_id)
    rows = (await session.scalars(stmt.order_by(Handoff.respond_by).limit(200))).all()
    now = clock.now()
    return [_view(h, actor, now) for h in rows]


async def _visible(session: SessionDep, actor: Actor, reference: str,
                   lock: bool = False) -> Handoff:
    """The newest handoff of `reference` this person may see; 404 otherwise."""
    stmt = select(Handoff).where(Handoff.reference == reference)
    if not actor.sees_everyone:
        stmt = stmt.where(Handoff.keyworker_id == actor.keyworker_id)
    stmt = stmt.order_by(Handoff.created_at.desc()).limit(1)
    if lock:
        stmt = stmt.with_for_update()
    h = (await session.scalars(stmt)).first()
    if h is None:
        raise NotFound("handoff")
    return h


@router.get("/{reference}", response_model=DeskHandoff)
async def one_handoff(reference: str, session: SessionDep, actor: PersonDep,
                      clock: ClockDep) -> DeskHandoff:
    h = await _visible(session, actor, reference)
    now = clock.now()
    audit(session, AuditEntry, actor, "read", "handoff", h.id, now)
    return _view(h, actor, now)


@router.post("/{reference}/decision", response_model=DecisionResult)
async def decide(reference: str, body: Decision, session: SessionDep, actor: PersonDep,
                 own: NotifyDep, clock: ClockDep) -> DecisionResult:
    """Accept or decline my offer, exactly as replying ACCEPT/DECLINE by SMS would: the same
    handoff, the same checks, a repeat answers as the SMS would (`already_accepted`)."""
    h = await _visible(session, actor, reference, lock=True)
    if h.keyworker_id != actor.keyworker_id:
        raise NotFound("handoff")  # coordinators see offers, only the worker answers them
    result = await replies.decide(session, own, h, body.decision)
    audit(session, AuditEntry, actor, f"web:{body.decision}", "handoff", h.id, clock.now())
    return DecisionResult(result=result)
