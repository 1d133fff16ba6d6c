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
from sqlalchemy import Select, func, or_, select

from services.common.audit import audit
from services.common.coordinating import CoordinatorDep
from services.common.deps import ClockDep, SessionDep
from services.common.errors import invalid
from services.intake import people
from services.intake.models import AuditEntry, Contact, Person, PersonIdentifier, ReferralLink

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


class SearchResult(BaseModel):
    by: str
    searched: str
    notes: list[str]
    people: list[Found]


def _like(prefix: str) -> str:
    return prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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


def _by_identifier(kind: str, value: str) -> Select[str]:
    return select(PersonIdentifier.person_id).where(PersonIdentifier.kind == kind,
                                                    PersonIdentifier.value == value)


def _query(by: By, q: str, notes: list[str]) -> tuple[str, Select[Person]]:
    """The normalised words searched for and the statement finding the people."""
    people_ = select(Person).where(Person.merged_into.is_(None))
    if by == "name":
        words = q.split()
        if len(words) == 1:
            like = _like(words[0])
            return q, people_.where(or_(func.lower(Person.given_name).like(like, escape="\\"),
                                        func.lower(Person.family_name).like(like, escape="\\")))
        given, family = _like(words[0]), _like(" ".join(words[1:]))
        return q, people_.where(func.lower(Person.given_name).like(given, escape="\\"),
                                func.lower(Person.family_name).like(family, escape="\\"))
    if by == "phone":
        phone = people.normal_phone(q)
        if phone is None:
            raise invalid(["query", "q"], "this is not a phone number we can search for")
        return phone, people_.where(Person.id.in_(_by_identifier("phone", phone)))
    if by == "email":
        email = people.normal_email(q)
        if email is None:
            raise invalid(["query", "q"], "this is not an email address")
        return email, people_.where(Person.id.in_(_by_identifier("email", email)))
    if by == "nhs_number":
        digits = re.sub(r"[\s-]", "", q)
        if not re.fullmatch(r"\d{10}", digits):
            raise invalid(["query", "q"], "an NHS number has 10 digits")
        if people.valid_nhs_number(digits) is None:
            notes.append("This NHS number fails its check digit: searched as written.")
        return digits, people_.where(Person.id.in_(_by_identifier("nhs_number", digits)))
    if by == "date_of_birth":
        born = _dob(q)
        return born.isoformat(), people_.where(Person.date_of_birth == born)
    ref = q.upper()
    if not REFERENCE.match(ref):
        raise invalid(["query", "q"], "a reference looks like LW-ABCD-1234")
    via_contact = select(Contact.person_id).where(Contact.reference == ref)
    via_link = select(ReferralLink.person_id).where(ReferralLink.reference == ref)
    return ref, people_.where(or_(Person.id.in_(via_contact), Person.id.in_(via_link)))


@router.get("/search", response_model=SearchResult)
async def search(session: SessionDep, actor: CoordinatorDep, clock: ClockDep, by: By,
                 q: Annotated[str, Query(min_length=1, max_length=200)]) -> SearchResult:
    """People matching, at most 50, merged records left out (their survivor is found)."""
    q = q.strip()
    if not q or "\x00" in q:
        raise invalid(["query", "q"], "enter what to search for")
    notes: list[str] = []
    searched, stmt = _query(by, q, notes)
    stmt = stmt.order_by(Person.family_name, Person.given_name, Person.id).limit(MAX_FOUND)
    found = (await session.scalars(stmt)).all()
    ids = await _identifiers(session, [p.id for p in found])
    now = clock.now()
    audit(session, AuditEntry, actor, f"search:{by}", "person", "search", now)
    for p in found:
        audit(session, AuditEntry, actor, "search_result", "person", p.id, now)
    return SearchResult(by=by, searched=searched, notes=notes, people=[Found(
        id=p.id, given_name=p.given_name, family_name=p.family_name,
        date_of_birth=p.date_of_birth, postcode=p.postcode,
        phones=ids.get((p.id, "phone"), []), emails=ids.get((p.id, "email"), []),
        nhs_number=next(iter(ids.get((p.id, "nhs_number"), [])), None),
        created_at=p.created_at) for p in found])


async def _identifiers(session: SessionDep, ids: list[str]) -> dict[tuple[str, str], list[str]]:
    if not ids:
        return {}
    out: dict[tuple[str, str], list[str]] = {}
    stmt = select(PersonIdentifier).where(PersonIdentifier.person_id.in_(ids))
    for i in await session.scalars(stmt.order_by(PersonIdentifier.id)):
        out.setdefault((i.person_id, i.kind), []).append(i.value)
    return out
