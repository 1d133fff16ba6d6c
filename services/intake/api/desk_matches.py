"""Possible matches for coordinators and admins signed in to the desk (key workers and keys
get 403): two people intake flagged as maybe one (same name and date of birth, a
contradicting NHS number …), side by side, to merge into the record to keep or dismiss as
different people. The same rules as the staff API (`api/people.py`, `people.merge`): never
automatic, a settled match is a 409, and each step is audited with the account; each read of
the list is audited per person shown, since it shows who they are."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.intake import people, repository

router = APIRouter(prefix="/api/v1/desk/matches", include_in_schema=False)


class Side(BaseModel):
    id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    identifiers: dict[str, list[str]]
    created_at: datetime


class MatchView(BaseModel):
    id: str
    reasons: list[str]
    created_at: datetime
    person: Side
    candidate: Side


class MatchList(BaseModel):
    count: int
    matches: list[MatchView]


class MergeChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: str = Field(min_length=1, max_length=36,
                      description="The record to keep: the match's person or its candidate.")


async def _sides(session: SessionDep, ids: list[str]) -> dict[str, Side]:
    found = await repository.people_by_id(session, ids)
    idents: dict[str, dict[str, list[str]]] = {}
    for i in await repository.identifiers_of_people(session, ids):
        idents.setdefault(i.person_id, {}).setdefault(i.kind, []).append(i.value)
    return {pid: Side(id=p.id, given_name=p.given_name, family_name=p.family_name,
                      date_of_birth=p.date_of_birth, postcode=p.postcode,
                      identifiers=idents.get(pid, {}), created_at=p.created_at)
            for pid, p in found.items()}


@router.get("", response_model=MatchList)
async def open_matches(session: SessionDep, actor: CoordinatorDep, clock: ClockDep,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> MatchList:
    """Open possible matches, oldest first, each with both people."""
    every = list(await repository.open_possible_matches(session))
    shown = every[:limit]
    sides = await _sides(session, sorted({i for m in shown
                                          for i in (m.person_id, m.candidate_id)}))
    people.record_reads(session, actor, "match_read", list(sides), clock.now())
    return MatchList(count=len(every), matches=[
        MatchView(id=m.id, reasons=m.reasons, created_at=m.created_at,
                  person=sides[m.person_id], candidate=sides[m.candidate_id])
        for m in shown if m.person_id in sides and m.candidate_id in sides])


@router.post("/{match_id}/merge", response_model=MatchView)
async def merge(match_id: str, body: MergeChoice, session: SessionDep, actor: CoordinatorDep,
                clock: ClockDep) -> MatchView:
    """Fold the other record into the one to keep (identifiers, contacts, referrals and
    callbacks move; the other points to it)."""
    match = await people.merge_match(session, match_id, body.keep, actor, clock.now())
    sides = await _sides(session, [match.person_id, match.candidate_id])
    return MatchView(id=match.id, reasons=match.reasons, created_at=match.created_at,
                     person=sides[match.person_id], candidate=sides[match.candidate_id])


@router.post("/{match_id}/dismiss")
async def dismiss(match_id: str, session: SessionDep, actor: CoordinatorDep,
                  clock: ClockDep) -> dict[str, str]:
    """They are different people: the match is settled and stays settled."""
    match = await people.dismiss_match(session, match_id, actor, clock.now())
    return {"id": match.id, "status": match.status}
