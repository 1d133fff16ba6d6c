"""`/internal/…`: what the other services ask intake (never routed by the gateway)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header

from services.common.deps import ClockDep, SessionDep
from services.common.inbox import remember, seen
from services.intake import people, repository
from services.intake.models import InboxEntry
from services.intake.schemas import ResolveRequest, ResolveResponse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/people/resolve", response_model=ResolveResponse)
async def resolve_person(body: ResolveRequest, session: SessionDep, clock: ClockDep,
                         idempotency_key: Annotated[str | None, Header()] = None
                         ) -> ResolveResponse:
    """Step 2 of the spine: the person a referral is about. Exact matches link; weaker ones
    get a new person flagged as a possible match. Repeats of one referral give one answer."""
    key = f"resolve:{body.referral_id}"
    done = await seen(session, InboxEntry, key)
    if done is not None and done.response is not None:
        return ResolveResponse.model_validate(done.response)
    now = clock.now()
    s = body.subject
    found = await people.resolve(session, people.Subject(
        given_name=s.given_name, family_name=s.family_name, date_of_birth=s.date_of_birth,
        nhs_number=s.nhs_number, phone=s.phone, email=s.email, postcode=s.postcode), now)
    await repository.add_link_if_new(session, {
        "reference": body.reference, "referral_id": body.referral_id,
        "person_id": found.person_id, "source": "partner", "urgency": None,
        "respond_by": None, "opened_at": now})
    answer = ResolveResponse(person_id=found.person_id, match=found.match)
    remember(session, InboxEntry, key, answer.model_dump(), now)
    log.info("person resolved", extra={"event": "person.resolved", "person_id": found.person_id,
                                       "referral_id": body.referral_id, "status": found.match})
    return answer
