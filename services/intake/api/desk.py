"""A person's story for people signed in to the desk: every contact on every channel.

A key worker sees it only for a person whose referral they accepted (referral, which knows,
is asked); coordinators and admins for anyone; keys for no one. Each read is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import func, select

from services.common.audit import audit
from services.common.context import Actor
from services.common.deps import ActorDep, ClientDep, ClockDep, SessionDep
from services.common.errors import NotFound, ProblemError
from services.intake.models import AuditEntry, Contact, Person

router = APIRouter(prefix="/api/v1/desk", include_in_schema=False)
MAX_CONTACTS = 500
BODY_CHARS = 500


async def signed_in(actor: ActorDep) -> Actor:
    if actor.kind != "person" or actor.person_role is None:
        raise ProblemError(403, "forbidden", "Forbidden", "This is for people signed in.")
    return actor


PersonDep = Annotated[Actor, Depends(signed_in)]


class StoryContact(BaseModel):
    at: datetime
    channel: str
    reference: str | None
    outcome: str | None
    crisis: bool
    summary: str | None


@router.get("/people/{person_id}/contacts", response_model=list[StoryContact])
async def story(person_id: str, session: SessionDep, actor: PersonDep, client: ClientDep,
                clock: ClockDep) -> list[StoryContact]:
    """Every contact of the person (and of records merged into theirs), newest first."""
    if not actor.sees_everyone:
        query = urlencode({"person_id": person_id, "keyworker_id": actor.keyworker_id or ""})
        resp = await client.get("referral", f"/internal/desk/access?{query}", timeout=5.0)
        if not (resp.ok and resp.body.get("allowed")):
            raise NotFound("person")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("person")
    # The merged records first, then one `IN` on the indexed person_id: an `OR` with a
    # subquery made PostgreSQL walk every contact newest first until it had found theirs.
    # Only the columns shown are read (not whole contacts: a page of 200 is read often).
    merged = await session.scalars(select(Person.id).where(Person.merged_into == person_id))
    stmt = (select(Contact.created_at, Contact.channel, Contact.reference, Contact.outcome,
                   Contact.crisis, Contact.subject,
                   func.substr(Contact.body, 1, BODY_CHARS).label("body"))
            .where(Contact.person_id.in_([person_id, *merged]))
            .order_by(Contact.created_at.desc()).limit(MAX_CONTACTS))
    rows = (await session.execute(stmt)).all()
    audit(session, AuditEntry, actor, "read_story", "person", person_id, clock.now())
    return [StoryContact(at=c.created_at, channel=c.channel, reference=c.reference,
                         outcome=c.outcome, crisis=c.crisis,
                         summary=(c.subject or c.body or "")[:BODY_CHARS] or None) for c in rows]

