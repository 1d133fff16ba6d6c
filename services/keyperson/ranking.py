"""The assignment rules as a pure function: who may take a referral, and in what order.

Order: continuity (the person's key worker, then the worker who already holds another open
referral of theirs, when eligible) first; then locality/team match,
required skills, being on shift within the window (only when the urgency needs it), capacity
headroom, and fairness (least recently given a new person), with the id as the last tie-break
so the same facts always give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Urgencies whose window is short enough that the worker must be working within it.
NEEDS_SHIFT = frozenset({"emergency", "very_urgent", "urgent"})
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """What the rules need to know about one worker at the moment of assignment."""

    id: str
    localities: tuple[str, ...]
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    caseload: int
    max_caseload: int
    active: bool = True
    absent: bool = False
    on_shift_in_window: bool = False
    last_assigned_at: datetime | None = None

    @property
    def headroom(self) -> int:
        return self.max_caseload - self.caseload


@dataclass(frozen=True, slots=True)
class Need:
    """What the referral needs."""

    locality: str
    team: str | None
    skills: tuple[str, ...]
    urgency: str
    key_worker_id: str | None = None
    declined: frozenset[str] = frozenset()
    # Workers already holding another open referral of this person: the person is on their
    # caseload, so this referral takes no new place with them (a caseload counts people).
    holders: frozenset[str] = frozenset()

    @property
    def needs_shift(self) -> bool:
        return self.urgency in NEEDS_SHIFT


@dataclass(frozen=True, slots=True)
class Candidate:
    """One eligible worker, its place in the order and the reasons for it."""

    keyworker_id: str
    continuity: bool
    key_person: bool  # the person's key person (before a worker who only holds them)
    holds_person: bool  # takes this referral without a new place
    locality_match: bool
    team_match: bool
    skills_missing: tuple[str, ...]
    on_shift: bool
    headroom: int
    last_assigned_at: datetime | None
    reasons: tuple[str, ...]

    def as_dict(self, rank: int) -> dict[str, object]:
        """The explanation of this candidate, as stored and returned."""
        return {
            "rank": rank, "keyworker_id": self.keyworker_id, "continuity": self.continuity,
            "holds_person": self.holds_person, "locality_match": self.locality_match,
            "team_match": self.team_match,
            "skills_missing": list(self.skills_missing), "on_shift": self.on_shift,
            "headroom": self.headroom,
            "last_assigned_at": self.last_assigned_at.isoformat() if self.last_assigned_at
            else None,
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class Ranking:
    """Eligible candidates best first, the excluded with why, and the headline reasons."""

    ordered: list[Candidate] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def exclusion(worker: WorkerFacts, need: Need) -> str | None:
    """Why a worker cannot take this referral, or None when they can."""
    if not worker.active:
        return "inactive"
    if worker.absent:
        return "absent"
    if worker.id in need.declined:
        return "already declined or lost this referral"
    if worker.caseload >= worker.max_caseload and worker.id not in need.holders:
        return "at maximum caseload"
    if need.locality not in worker.localities and (need.team is None
                                                   or need.team not in worker.teams):
        return "serves neither the locality nor the team"
    return None


def _candidate(worker: WorkerFacts, need: Need) -> Candidate:
    key_person = worker.id == need.key_worker_id
    holds = worker.id in need.holders
    continuity = key_person or holds
    loc = need.locality in worker.localities
    team = need.team is not None and need.team in worker.teams
    missing = tuple(s for s in need.skills if s not in worker.skills)
    on_shift = need.needs_shift and worker.on_shift_in_window
    reasons = []
    if key_person:
        reasons.append("continuity: the person's key worker")
    if holds:
        reasons.append("continuity: already holds another open referral of this person "
                       "(no new place taken)")
    reasons.append(("serves locality " + need.locality) if loc else "does not serve the locality")
    if need.team is not None:
        reasons.append(("in team " + need.team) if team else "not in the team")
    if need.skills:
        reasons.append("has every required skill" if not missing
                       else "lacks " + ", ".join(missing))
    if need.needs_shift:
        reasons.append("on shift within the window" if on_shift
                       else "not on shift within the window")
    reasons.append(f"headroom {worker.headroom} of {worker.max_caseload}")
    reasons.append("never given a new person" if worker.last_assigned_at is None
                   else "last given a new person at " + worker.last_assigned_at.isoformat())
    return Candidate(worker.id, continuity, key_person, holds, loc, team, missing, on_shift,
                     worker.headroom, worker.last_assigned_at, tuple(reasons))


def sort_key(c: Candidate) -> tuple[object, ...]:
    """Lexicographic order of the rules after continuity (smaller is better)."""
    return (not c.continuity, not c.key_person, -(int(c.locality_match) + int(c.team_match)),
            len(c.skills_missing), not c.on_shift, -c.headroom,
            c.last_assigned_at or _NEVER, c.keyworker_id)


def rank(need: Need, workers: Iterable[WorkerFacts]) -> Ranking:
    """Rank every eligible worker for `need`; deterministic whatever the input order."""
    result = Ranking()
    candidates: list[Candidate] = []
    key_worker_seen = False
    for worker in workers:
        why = exclusion(worker, need)
        if why is not None:
            result.excluded[worker.id] = why
            if worker.id == need.key_worker_id:
                key_worker_seen = True
                result.reasons.append(f"continuity not possible: the key worker is {why}")
            continue
        key_worker_seen = key_worker_seen or worker.id == need.key_worker_id
        candidates.append(_candidate(worker, need))
    if need.key_worker_id is not None and not key_worker_seen:
        result.reasons.append("continuity not possible: the key worker is no longer on the roster")
    candidates.sort(key=sort_key)
    result.ordered = candidates
    return result
