"""`/internal/…`: what the other services ask intake (never routed by the gateway)."""

from __future__ import annotations

from fastapi import APIRouter

from services.common.deps import ClockDep, SessionDep
from services.intake import people
from services.intake.schemas import ResolveRequest, ResolveResponse

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/people/resolve", response_model=ResolveResponse)
async def resolve_person(body: ResolveRequest, session: SessionDep,
                         clock: ClockDep) -> ResolveResponse:
    """Step 2 of the spine: the person a referral is about. Exact matches link; weaker ones
    get a new person flagged as a possible match. Repeats of one referral give one answer."""
    s = body.subject
    person_id, match = await people.resolve_for_referral(
        session, referral_id=body.referral_id, reference=body.reference, now=clock.now(),
        subject=people.Subject(
            given_name=s.given_name, family_name=s.family_name, date_of_birth=s.date_of_birth,
            nhs_number=s.nhs_number, phone=s.phone, email=s.email, postcode=s.postcode))
    return ResolveResponse(person_id=person_id, match=match)
