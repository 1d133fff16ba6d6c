"""`/api/v1/people…` and `/api/v1/contacts`: the person index for staff (staff keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.intake import people, repository
from services.intake.models import Contact, Person, PossibleMatch
from services.intake.schemas import (
    ContactRead,
    IdentifierRead,
    MergeRequest,
    PersonRead,
    PossibleMatchRead,
)

router = APIRouter(tags=["people"])


async def _read(session: SessionDep, person: Person) -> PersonRead:
    ids = [IdentifierRead.model_validate(i) for i in await repository.identifiers_of(session,
                                                                                    person.id)]
    return PersonRead(id=person.id, given_name=person.given_name,
                      family_name=person.family_name, date_of_birth=person.date_of_birth,
                      postcode=person.postcode, merged_into=person.merged_into,
                      identifiers=ids, created_at=person.created_at)


@router.get("/api/v1/people/possible-matches", response_model=list[PossibleMatchRead])
async def possible_matches(session: SessionDep, _: StaffDep) -> list[PossibleMatch]:
    """People who may be the same person, oldest first, with the reasons (e.g.
    `same_name_and_date_of_birth`, `different_nhs_number`). Confirm with a merge or dismiss."""
    return list(await repository.open_possible_matches(session))


@router.post("/api/v1/people/possible-matches/{match_id}/dismiss",
             response_model=PossibleMatchRead)
async def dismiss_match(match_id: str, session: SessionDep, actor: StaffDep,
                        clock: ClockDep) -> PossibleMatch:
    """Record that two people are different people (audited)."""
    return await people.dismiss_match(session, match_id, actor, clock.now())


@router.get("/api/v1/people/{person_id}", response_model=PersonRead)
async def get_person(person_id: str, session: SessionDep, actor: StaffDep,
                     clock: ClockDep) -> PersonRead:
    """One person and how we recognise them. A merged record names the survivor in
    `merged_into`. Every read is audited."""
    return await _read(session, await people.read(session, person_id, actor, clock.now()))


@router.post("/api/v1/people/{person_id}/merge", response_model=PersonRead)
async def merge_people(person_id: str, body: MergeRequest, session: SessionDep,
                       actor: StaffDep, clock: ClockDep) -> PersonRead:
    """Fold `merge_person_id` into this person: identifiers, contacts, referrals and callbacks
    move here; the other record points here. Explicit and audited, never automatic."""
    survivor = await people.merge(session, person_id, body.merge_person_id, actor, clock.now())
    return await _read(session, survivor)


@router.get("/api/v1/contacts", response_model=list[ContactRead])
async def contacts_for_reference(session: SessionDep, actor: StaffDep, clock: ClockDep,
                                 reference: Annotated[str, Query(min_length=4, max_length=20)]
                                 ) -> list[Contact]:
    """Every call, text and email joined to one referral reference, oldest first (audited)."""
    return list(await people.contacts_for_reference(session, reference, actor, clock.now()))
