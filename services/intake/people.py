"""The person index: tell your story once.

Strong identifiers (NHS number, phone in E.164, email) link a contact or referral to a known
person automatically when they point at exactly one person and nothing contradicts it.
Anything weaker (name + date of birth, family name + date of birth) or contradictory creates
a new person and flags a possible match for staff to confirm; merges are explicit and audited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import Conflict, NotFound, invalid
from services.common.ids import new_id
from services.common.inbox import remember, seen
from services.common.phone import person_number
from services.intake import repository
from services.intake.models import AuditEntry, Contact, InboxEntry, Person, PossibleMatch

log = logging.getLogger(__name__)
Match = Literal["new", "exact", "possible"]
_MATCHES: dict[str, Match] = {"new": "new", "exact": "exact", "possible": "possible"}
STRONG = ("nhs_number", "phone", "email")
_WEIGHTS = range(10, 1, -1)


def valid_nhs_number(raw: str | None) -> str | None:
    """Ten digits passing the Modulus 11 check and not all the same digit, else None."""
    if not raw:
        return None
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"\d{10}", digits) or len(set(digits)) == 1:
        return None
    total = sum(int(d) * w for d, w in zip(digits[:9], _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return None
    return digits


def normal_phone(raw: str | None) -> str | None:
    """E.164 for any possible number (unverified ones too), None for a withheld or malformed one."""
    found = person_number(raw)
    return found.e164 if found else None


def normal_email(raw: str | None) -> str | None:
    """Lower-cased address, or None when it is not an email address."""
    if not raw:
        return None
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _name(raw: str | None) -> str | None:
    cleaned = " ".join((raw or "").lower().split())
    return cleaned or None


@dataclass(frozen=True)
class Subject:
    """What a contact or referral tells us about a person (any field may be missing)."""

    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    nhs_number: str | None = None
    phone: str | None = None
    email: str | None = None
    postcode: str | None = None

    def identifiers(self) -> dict[str, str]:
        """The exact identifiers this subject carries, normalised; invalid ones are dropped."""
        found = {"nhs_number": valid_nhs_number(self.nhs_number),
                 "phone": normal_phone(self.phone), "email": normal_email(self.email)}
        given, family = _name(self.given_name), _name(self.family_name)
        if given and family and self.date_of_birth:
            found["name_dob"] = f"{family}|{given}|{self.date_of_birth.isoformat()}"
        return {k: v for k, v in found.items() if v}


@dataclass
class Resolution:
    person_id: str
    match: Match
    candidates: list[str] = field(default_factory=list)


def _contradicts(person: Person, ids: dict[str, str], held: dict[str, str],
                 subject: Subject) -> list[str]:
    """Reasons a strong hit may still be someone else."""
    reasons = [f"different_{kind}" for kind in ("nhs_number",)
               if kind in ids and kind in held and ids[kind] != held[kind]]
    if subject.date_of_birth and person.date_of_birth and \
            subject.date_of_birth != person.date_of_birth:
        reasons.append("different_date_of_birth")
    return reasons


async def _weak_candidates(session: AsyncSession, subject: Subject,
                           ids: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if "name_dob" in ids:
        pid = await repository.person_for_identifier(session, "name_dob", ids["name_dob"])
        if pid:
            found[pid] = ["same_name_and_date_of_birth"]
    family = _name(subject.family_name)
    if family and subject.date_of_birth:
        for person in await repository.people_named(session, family):
            if person.date_of_birth == subject.date_of_birth and person.id not in found:
                found[person.id] = ["same_family_name_and_date_of_birth"]
    return found


async def resolve(session: AsyncSession, subject: Subject, now: datetime) -> Resolution:
    """Find or create the person this subject describes (see the module docstring)."""
    for _ in range(3):
        outcome = await _resolve_once(session, subject, now)
        if outcome is not None:
            return outcome
    raise Conflict("The person index is busy with the same person; retry.")


async def resolve_for_referral(session: AsyncSession, *, referral_id: str, reference: str,
                               subject: Subject, now: datetime) -> tuple[str, Match]:
    """Step 2 of the spine: (person id, how they matched) for the subject of a referral, and
    the referral remembered as theirs. Exact matches link; weaker ones get a new person flagged
    as a possible match. Repeats of one referral give the first answer."""
    key = f"resolve:{referral_id}"
    done = await seen(session, InboxEntry, key)
    if done is not None and done.response is not None:
        return str(done.response["person_id"]), _MATCHES[str(done.response["match"])]
    found = await resolve(session, subject, now)
    await repository.add_link_if_new(session, {
        "reference": reference, "referral_id": referral_id, "person_id": found.person_id,
        "source": "partner", "urgency": None, "respond_by": None, "opened_at": now})
    remember(session, InboxEntry, key, {"person_id": found.person_id, "match": found.match}, now)
    log.info("person resolved", extra={"event": "person.resolved", "person_id": found.person_id,
                                       "referral_id": referral_id, "status": found.match})
    return found.person_id, found.match


async def _resolve_once(session: AsyncSession, subject: Subject,
                        now: datetime) -> Resolution | None:
    ids = subject.identifiers()
    hits: dict[str, str] = {}
    for kind in STRONG:
        if kind in ids:
            pid = await repository.person_for_identifier(session, kind, ids[kind])
            if pid:
                hits[kind] = pid
    people = set(hits.values())
    flags: dict[str, list[str]] = {}
    if len(people) == 1:
        person = await repository.get_person(session, next(iter(people)))
        if person is not None:
            held = {i.kind: i.value for i in await repository.identifiers_of(session, person.id)}
            why = _contradicts(person, ids, held, subject)
            if not why:
                await _enrich(session, person, subject, ids, now)
                return Resolution(person.id, "exact")
            flags[person.id] = why
    elif people:
        for pid in people:
            flags[pid] = [f"same_{k}" for k, v in hits.items() if v == pid] + ["several_people"]
    if not hits:
        flags.update(await _weak_candidates(session, subject, ids))
    person = _new_person(subject, now)
    session.add(person)
    await session.flush()
    for kind, value in ids.items():
        attached = await repository.add_identifier_if_new(session, person.id, kind, value, now)
        if not attached and kind in STRONG and kind not in hits:
            # A concurrent request registered the same person first: use theirs.
            await session.delete(person)
            await session.flush()
            return None
    for candidate, reasons in flags.items():
        await repository.flag_possible_match(session, {
            "id": new_id(), "person_id": person.id, "candidate_id": candidate,
            "reasons": reasons, "status": "open", "created_at": now, "resolved_at": None})
    return Resolution(person.id, "possible" if flags else "new", sorted(flags))


def _new_person(subject: Subject, now: datetime) -> Person:
    return Person(id=new_id(), given_name=subject.given_name, family_name=subject.family_name,
                  date_of_birth=subject.date_of_birth, postcode=subject.postcode,
                  merged_into=None, created_at=now, updated_at=now)


async def _enrich(session: AsyncSession, person: Person, subject: Subject,
                  ids: dict[str, str], now: datetime) -> None:
    """Fill what we did not know yet; never overwrite what we did."""
    for attr in ("given_name", "family_name", "date_of_birth", "postcode"):
        if getattr(person, attr) is None and getattr(subject, attr) is not None:
            setattr(person, attr, getattr(subject, attr))
            person.updated_at = now
    for kind, value in ids.items():
        await repository.add_identifier_if_new(session, person.id, kind, value, now)


async def person_for_phone(session: AsyncSession, phone: str | None, now: datetime,
                           *, create: bool) -> str | None:
    """The person behind a phone number; a new one when `create` and the number is real."""
    e164 = normal_phone(phone)
    if e164 is None:
        return None
    found = await repository.person_for_identifier(session, "phone", e164)
    if found or not create:
        return found
    return (await resolve(session, Subject(phone=e164), now)).person_id


async def person_for_sender(session: AsyncSession, kind: Literal["phone", "email"],
                            value: str | None, thread_reference: str | None,
                            now: datetime) -> str | None:
    """The person behind a message's sender (`value`, normalised), created if new.

    A message that belongs to a known referral (it quotes its reference or answers its thread)
    joins that referral's person: a sender nobody holds yet becomes one more way to reach
    them. When the sender already belongs to someone else, the two cannot be joined safely:
    the sender's person is kept and a possible match is flagged for staff.
    """
    link = await repository.get_link(session, thread_reference) if thread_reference else None
    owner = link.person_id if link is not None else None
    if value is None:
        return owner
    found = await repository.person_for_identifier(session, kind, value)
    if owner is None:
        if found is not None:
            return found
        subject = Subject(phone=value) if kind == "phone" else Subject(email=value)
        return (await resolve(session, subject, now)).person_id
    if found is None:
        if await repository.add_identifier_if_new(session, owner, kind, value, now):
            return owner
        found = await repository.person_for_identifier(session, kind, value)  # a twin won
        if found is None:  # pragma: no cover - the identifier was just taken
            return owner
    if found != owner:
        await repository.flag_possible_match(session, {
            "id": new_id(), "person_id": found, "candidate_id": owner,
            "reasons": [f"same_{kind}_quoted_reference"], "status": "open", "created_at": now,
            "resolved_at": None})
    return found


async def merge(session: AsyncSession, survivor_id: str, other_id: str, actor: Actor,
                now: datetime) -> Person:
    """Make `other_id` part of `survivor_id` (explicit, audited); returns the survivor."""
    if survivor_id == other_id:
        raise Conflict("A person cannot be merged with themselves.")
    survivor = await repository.get_person(session, survivor_id)
    other = await repository.get_person(session, other_id)
    if survivor is None or other is None:
        raise NotFound("person")
    if survivor.merged_into or other.merged_into:
        raise Conflict("One of these people was already merged; use the surviving record.",
                       slug="already-merged")
    await repository.move_person(session, other.id, survivor.id)
    for attr in ("given_name", "family_name", "date_of_birth", "postcode"):
        if getattr(survivor, attr) is None:
            setattr(survivor, attr, getattr(other, attr))
    other.merged_into, other.updated_at, survivor.updated_at = survivor.id, now, now
    for match in await repository.matches_between(session, survivor.id, other.id):
        if match.status == "open":
            match.status, match.resolved_at = "merged", now
    audit(session, AuditEntry, actor, "merge", "person", survivor.id, now)
    audit(session, AuditEntry, actor, "merged_into", "person", other.id, now)
    await session.flush()
    return survivor


async def read(session: AsyncSession, person_id: str, actor: Actor, now: datetime) -> Person:
    """One person, for staff (the read audited)."""
    person = await repository.get_person(session, person_id)
    if person is None:
        raise NotFound("person")
    audit(session, AuditEntry, actor, "read", "person", person.id, now)
    return person


async def contacts_for_reference(session: AsyncSession, reference: str, actor: Actor,
                                 now: datetime) -> Sequence[Contact]:
    """Every call, text and email joined to one referral, oldest first (the read audited)."""
    found = await repository.contacts_for_reference(session, reference)
    audit(session, AuditEntry, actor, "read_contacts", "referral", reference, now)
    return found


def record_reads(session: AsyncSession, actor: Actor, action: str, person_ids: Sequence[str],
                 now: datetime) -> None:
    """Audit that `actor` was shown these people (a list shows who they are)."""
    for pid in person_ids:
        audit(session, AuditEntry, actor, action, "person", pid, now)


async def search(session: AsyncSession, actor: Actor, by: str, value: str, limit: int,
                 now: datetime) -> Sequence[Person]:
    """People found by one normalised value (`by`: name, phone, email, nhs_number,
    date_of_birth or reference), audited by the kind of search and each person found, never
    the words searched for."""
    found = await repository.search_people(session, by, value, limit)
    audit(session, AuditEntry, actor, f"search:{by}", "person", "search", now)
    record_reads(session, actor, "search_result", [p.id for p in found], now)
    return found


async def open_match(session: AsyncSession, match_id: str) -> PossibleMatch:
    """A possible match still to settle (404 if unknown, 409 once merged or dismissed)."""
    match = await repository.get_possible_match(session, match_id)
    if match is None:
        raise NotFound("possible match")
    if match.status != "open":
        raise Conflict("This possible match was already settled.", slug="match-settled")
    return match


async def dismiss_match(session: AsyncSession, match_id: str, actor: Actor,
                        now: datetime) -> PossibleMatch:
    """They are different people: the match is settled and stays settled (audited)."""
    match = await open_match(session, match_id)
    match.status, match.resolved_at = "dismissed", now
    audit(session, AuditEntry, actor, "dismiss_match", "person", match.person_id, now)
    return match


async def merge_match(session: AsyncSession, match_id: str, keep: str, actor: Actor,
                      now: datetime) -> PossibleMatch:
    """Fold the other person of the match into `keep`, one of its two (a 422 otherwise)."""
    match = await open_match(session, match_id)
    if keep not in (match.person_id, match.candidate_id):
        raise invalid(["body", "keep"], "keep one of the two people of this match")
    other = match.candidate_id if keep == match.person_id else match.person_id
    await merge(session, keep, other, actor, now)
    match.status, match.resolved_at = "merged", now
    return match
