"""Outreach: people the Hub could not reach by phone, for a visit by a mobile worker.

A person is on the list when their referral closed `not_reached`, or when an open referral
has 3 contact attempts and none reached them. Referral owns the visits because it holds
both signals; a visit is kept as two kinds of `referral_note` row (no migration needed):

- `outreach_visit`: a coordinator gave the visit to a key worker (the note's id is the
  visit's id; a later one on the same referral takes over from an earlier one);
- `visit_outcome`: how the visit went. "Nobody at home" keeps the person on the list for
  another visit; any other outcome takes them off it.

Both are shown with the person's story on the desk (`visits`), never to the referrer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict
from services.common.ids import new_id
from services.referral import repository
from services.referral.models import Referral, ReferralNote

UNANSWERED = 3
LIMIT = 500
VISIT, OUTCOME = "outreach_visit", "visit_outcome"
OUTCOMES = {"engaged": "Seen: agreed to support",
            "declined": "Seen: declined support",
            "safe_no_need": "Seen: safe, needs nothing now",
            "not_home": "Nobody at home",
            "moved_away": "Moved away"}
STAYS_ON_LIST = frozenset({"not_home"})


@dataclass(slots=True)
class Visit:
    id: str
    referral_id: str
    keyworker_id: str
    assigned_by: str | None
    assigned_at: datetime
    outcome: str | None = None
    note: str = ""
    outcome_by: str | None = None
    outcome_at: datetime | None = None

    def view(self, reference: str) -> dict[str, Any]:
        return {"id": self.id, "reference": reference, "keyworker_id": self.keyworker_id,
                "assigned_at": self.assigned_at, "outcome": self.outcome,
                "outcome_label": OUTCOMES.get(self.outcome or ""), "note": self.note,
                "outcome_at": self.outcome_at}


@dataclass(slots=True)
class Candidate:
    referral: Referral
    why: str
    unanswered: int
    visits: list[Visit] = field(default_factory=list)

    @property
    def current(self) -> Visit | None:
        return self.visits[-1] if self.visits else None

    @property
    def done(self) -> bool:
        last = self.current
        return last is not None and last.outcome is not None and last.outcome not in STAYS_ON_LIST


def visits_from(notes: Sequence[ReferralNote]) -> list[Visit]:
    """The visits kept in a referral's notes (oldest first), each with its outcome if any."""
    found: dict[str, Visit] = {}
    ordered = sorted(notes, key=lambda n: n.created_at)
    for n in ordered:
        if n.kind == VISIT:
            data = json.loads(n.text)
            found[n.id] = Visit(id=n.id, referral_id=n.referral_id,
                                keyworker_id=str(data["keyworker_id"]), assigned_by=n.org,
                                assigned_at=n.created_at)
    for n in ordered:  # after every visit: an outcome may carry its visit's timestamp
        if n.kind == OUTCOME:
            data = json.loads(n.text)
            visit = found.get(str(data["visit"]))
            if visit is not None:
                visit.outcome, visit.note = str(data["outcome"]), str(data.get("note", ""))
                visit.outcome_by, visit.outcome_at = n.org, n.created_at
    return list(found.values())


async def visits_for(session: AsyncSession, referral_ids: Sequence[str]) -> list[Visit]:
    if not referral_ids:
        return []
    return visits_from(await repository.notes_of_kinds(session, referral_ids, (VISIT, OUTCOME)))


async def candidates(session: AsyncSession, locality: str | None = None,
                     reference: str | None = None) -> list[Candidate]:
    """Everyone to visit, one entry per person (their newest referral that qualifies), the
    longest without contact first."""
    rows = await repository.unreached(session, unanswered=UNANSWERED, locality=locality,
                                      reference=reference, limit=LIMIT)
    by_person: dict[str, Candidate] = {}
    for referral, unanswered in rows:
        key = referral.person_id or referral.id
        if key not in by_person:  # newest first: the person's latest referral speaks for them
            why = "not_reached" if referral.status == "closed" else "unanswered"
            by_person[key] = Candidate(referral, why, int(unanswered))
    found = list(by_person.values())
    visits = await visits_for(session, [c.referral.id for c in found])
    for c in found:
        c.visits = [v for v in visits if v.referral_id == c.referral.id]
    return sorted((c for c in found if not c.done), key=lambda c: c.referral.status_at)


async def candidate(session: AsyncSession, reference: str) -> Candidate | None:
    """The person of `reference` if they are on the outreach list now."""
    found = await candidates(session, reference=reference)  # not capped by the list's LIMIT
    return found[0] if found else None


def assign_visit(session: AsyncSession, referral: Referral, keyworker_id: str, by: str | None,
                 now: datetime) -> str:
    visit_id = new_id()
    session.add(ReferralNote(id=visit_id, referral_id=referral.id, kind=VISIT,
                             text=json.dumps({"keyworker_id": keyworker_id}), org=by,
                             created_at=now))
    return visit_id


async def find_visit(session: AsyncSession, visit_id: str) -> tuple[Referral, Visit] | None:
    note = await repository.get_note(session, visit_id)
    if note is None or note.kind != VISIT:
        return None
    referral = await repository.get_referral(session, note.referral_id)
    visits = await visits_for(session, [note.referral_id])
    visit = next((v for v in visits if v.id == visit_id), None)
    return (referral, visit) if referral is not None and visit is not None else None


def record_outcome(session: AsyncSession, visit: Visit, outcome: str, note: str,
                   by: str | None, now: datetime) -> None:
    """How the visit went, once only (a second outcome is a conflict)."""
    if visit.outcome is not None:
        raise Conflict("This visit's outcome is already recorded.", slug="visit-recorded")
    session.add(ReferralNote(id=new_id(), referral_id=visit.referral_id, kind=OUTCOME,
                             text=json.dumps({"visit": visit.id, "outcome": outcome,
                                              "note": note}),
                             org=by, created_at=now))
