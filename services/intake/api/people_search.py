"""People search for coordinators and admins signed in to the desk: by name (prefix of the
given and family names), phone (normalised to E.164), email, NHS number, date of birth or a
reference. Key workers and keys get 403. Every search is audited by the kind of search and
each person found (never the words searched for)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import invalid
from services.intake import people, repository

router = APIRouter(prefix="/api/v1/desk/people", include_in_schema=False)
MAX_FOUND = 50
By = Literal["name", "phone", "email", "nhs_number", "date_of_birth", "reference"]
REFERENCE = re.compile(r"^LW-[0-9A-Z]{4}-[0-9A-Z]{4}$")


class Found(BaseModel):
    id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    phones: list[str]
    emails: list[str]
    nhs_number: str | None
    created_at: datetime
    # Their referrals' references, newest first: the desk opens the person's page by one.
    references: list[str]


class SearchResult(BaseModel):
    by: str
    searched: str
    notes: list[str]
    people: list[Found]


def _dob(raw: str) -> date:
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"):
        if m := re.match(pattern, raw):
            parts = [int(p) for p in m.groups()]
            y, mo, d = parts if pattern.startswith("^(\\d{4})") else parts[::-1]
            try:
                return date(y, mo, d)
            except ValueError:
                break
    raise invalid(["query", "q"], "a date of birth is written like 1990-04-23 or 23/04/1990")


def _parse(by: By, q: str, notes: list[str]) -> str:
    """The words searched for, normalised as the index holds them (a 422 when they cannot be
    what `by` says)."""
    if by == "name":
        return q
    if by == "phone":
        phone = people.normal_phone(q)
        if phone is None:
            raise invalid(["query", "q"], "this is not a phone number we can search for")
        return phone
    if by == "email":
        email = people.normal_email(q)
        if email is None:
            raise invalid(["query", "q"], "this is not an email address")
        return email
    if by == "nhs_number":
        digits = re.sub(r"[\s-]", "", q)
        if not re.fullmatch(r"\d{10}", digits):
            raise invalid(["query", "q"], "an NHS number has 10 digits")
        if people.valid_nhs_number(digits) is None:
            notes.append("This NHS number fails its check digit: searched as written.")
        return digits
    if by == "date_of_birth":
        return _dob(q).isoformat()
    ref = q.upper()
    if not REFERENCE.match(ref):
        raise invalid(["query", "q"], "a reference looks like LW-ABCD-1234")
    return ref


@router.get("/search", response_model=SearchResult)
async def search(session: SessionDep, actor: CoordinatorDep, clock: ClockDep, by: By,
                 q: Annotated[str, Query(min_length=1, max_length=200)]) -> SearchResult:
    """People matching, at most 50, merged records left out (their survivor is found)."""
    q = q.strip()
    if not q or "\x00" in q:
        raise invalid(["query", "q"], "enter what to search for")
    notes: list[str] = []
    searched = _parse(by, q, notes)
    found = await people.search(session, actor, by, searched, MAX_FOUND, clock.now())
    ids: dict[tuple[str, str], list[str]] = {}
    for i in await repository.identifiers_of_people(session, [p.id for p in found]):
        ids.setdefault((i.person_id, i.kind), []).append(i.value)
    refs = await repository.references_of_people(session, [p.id for p in found])
    return SearchResult(by=by, searched=searched, notes=notes, people=[Found(
        id=p.id, given_name=p.given_name, family_name=p.family_name,
        date_of_birth=p.date_of_birth, postcode=p.postcode,
        phones=ids.get((p.id, "phone"), []), emails=ids.get((p.id, "email"), []),
        nhs_number=next(iter(ids.get((p.id, "nhs_number"), [])), None),
        created_at=p.created_at, references=refs.get(p.id, [])) for p in found])
