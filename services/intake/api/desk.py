"""A person's story for people signed in to the desk: every contact on every channel (who may
see whose story is `services.intake.story`'s)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.common.context import Actor
from services.common.deps import ActorDep, ClientDep, ClockDep, SessionDep
from services.common.errors import ProblemError
from services.intake import story as stories
from services.intake.story import BODY_CHARS

router = APIRouter(prefix="/api/v1/desk", include_in_schema=False)


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
    rows = await stories.contacts(session, client, actor, person_id, clock.now())
    return [StoryContact(at=c.created_at, channel=c.channel, reference=c.reference,
                         outcome=c.outcome, crisis=c.crisis,
                         summary=(c.subject or c.body or "")[:BODY_CHARS] or None) for c in rows]
