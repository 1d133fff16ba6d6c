"""Assignment: choose a key worker for a referral, atomically, and move it on when needed.

Capacity is taken with one conditional UPDATE (`caseload < max_caseload`, checked by its
rowcount). PostgreSQL row-locks the worker for the rest of the transaction and re-checks the
condition after a concurrent writer commits; SQLite runs one writer at a time. Either way two
assignments at the same moment can never push a worker past their maximum.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.keyperson import outbound
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, KeyPersonLink
from services.keyperson.ranking import NEEDS_SHIFT, Need, Ranking, WorkerFacts, rank
from services.keyperson.repository import KeyWorkerNow, PersonContext, WorkerRow
from services.keyperson.schemas import AssignmentRequest

log = logging.getLogger(__name__)
TOP = 20
PAGE = 20  # candidates read per assignment; the rest only if all of them filled up
HOLDER_ROLES = ("duty_coordinator", "backup_manager")


@dataclass
class Choice:
    """Who gets the referral, by which rule, and the ranking behind it."""

    worker: WorkerRow | None
    via: str
    reasons: list[str]
    ranking: Ranking = field(default_factory=Ranking)
    key_worker: WorkerRow | None = None


def window_for(urgency: str, now: datetime, respond_by: datetime,
               ) -> tuple[datetime, datetime] | None:
    """The time a worker must be on shift in, for the urgencies that need it."""
    if urgency not in NEEDS_SHIFT:
        return None
    return now, max(respond_by, now + timedelta(minutes=1))


def _facts(w: WorkerRow, absent: bool, on_shift: bool) -> WorkerFacts:
    return WorkerFacts(id=w.id, localities=tuple(w.localities), teams=tuple(w.teams),
                       skills=tuple(w.skills), caseload=w.caseload,
                       max_caseload=w.max_caseload, active=w.active, absent=absent,
                       on_shift_in_window=on_shift, last_assigned_at=w.last_assigned_at)


async def gather(session: AsyncSession, need: Need, now: datetime, respond_by: datetime, *,
                 everyone: bool = False, skip: Collection[str] = (), limit: int | None = PAGE,
                 key_worker: KeyWorkerNow | None = None,
                 ) -> tuple[list[WorkerFacts], dict[str, WorkerRow], bool]:
    """The facts the rules need, from indexed queries only.

    By default only the best `limit` eligible workers in the ranking's own order are read,
    plus the person's key worker as the caller already read them (`key_worker`, None when
    they are not on the roster); `everyone` reads every worker of the locality and team,
    full ones too, and the key worker, to explain. The flag says whether every eligible
    worker was read.
    """
    window = window_for(need.urgency, now, respond_by)
    on_shift: set[str] = set()
    absent: set[str] = set()
    if everyone:
        absent = await repo.absent_now(session, now)
        found = await repo.candidate_workers(session, need.locality, need.team,
                                             include_full=True)
        workers = {w.id: WorkerRow.of(w) for w in found}
        if need.key_worker_id is not None and need.key_worker_id not in workers:
            workers.update((i, WorkerRow.of(w)) for i, w in
                           (await repo.workers_by_ids(session, [need.key_worker_id])).items())
        if window is not None:
            on_shift = await repo.on_shift_between(session, list(workers), *window)
        complete = True
    else:
        # Absences of the page's workers are filtered in SQL, and the key worker's facts
        # came with the person's context: nothing else is read here.
        exclude = {*need.declined, *skip}
        best: list[tuple[WorkerRow, bool]] = []
        if need.team is not None and limit is not None:
            # Workers matching locality and team rank above all others: when there are
            # enough of them, the first page is theirs alone, and that query is much smaller.
            best = await repo.best_candidates(session, need.locality, need.team, need.skills,
                                              window=window, exclude=exclude, limit=limit,
                                              both=True, present_at=now)
        if len(best) < (limit or 0) or limit is None or need.team is None:
            best = await repo.best_candidates(session, need.locality, need.team, need.skills,
                                              window=window, exclude=exclude, limit=limit,
                                              present_at=now)
        workers = {w.id: w for w, _ in best}
        on_shift = {w.id for w, shift in best if shift}
        complete = limit is None or len(best) < limit
        if key_worker is not None and need.key_worker_id == key_worker.worker.id:
            kid = key_worker.worker.id
            workers.setdefault(kid, key_worker.worker)
            if key_worker.absent:
                absent.add(kid)
            if window is not None and key_worker.on_shift:
                on_shift.add(kid)
    facts = [_facts(w, w.id in absent, w.id in on_shift)
             for w in workers.values() if w.id not in skip]
    return facts, workers, complete


async def choose(session: AsyncSession, need: Need, now: datetime, respond_by: datetime,
                 *, dry_run: bool = False, key_worker: KeyWorkerNow | None = None) -> Choice:
    """Rank, then take the first candidate whose capacity can be taken atomically.

    `key_worker`: the person's key worker (`need.key_worker_id`) as read with the person's
    context, None when they are not on the roster; a dry run reads everything itself.
    """
    tried: set[str] = set()
    ranking = Ranking()
    known = key_worker
    if need.key_worker_id is not None and not dry_run and known is not None:
        quick, known = await _continuity(session, need, now, respond_by, known)
        if quick is not None:
            return quick
    held: WorkerRow | None = known.worker if known is not None else None
    for limit in (PAGE, None):  # the first page nearly always suffices
        facts, workers, complete = await gather(session, need, now, respond_by,
                                                everyone=dry_run, skip=tried, limit=limit,
                                                key_worker=known)
        held = workers.get(need.key_worker_id or "", held)
        ranking = rank(need, facts)
        for cand in ranking.ordered:
            tried.add(cand.keyworker_id)
            if dry_run or await repo.take_capacity(session, cand.keyworker_id, now):
                via = "continuity" if cand.continuity else "ranking"
                reasons = [*ranking.reasons, *cand.reasons]
                return Choice(workers[cand.keyworker_id], via, reasons, ranking, held)
            ranking.excluded[cand.keyworker_id] = "reached maximum caseload meanwhile"
        if complete:
            break
    holder = await duty_holder(session, need, now, dry_run=dry_run)
    why = "nobody fits: no eligible key worker for this locality/team"
    if holder is not None:
        return Choice(holder, "duty_coordinator",
                      [*ranking.reasons, why, "held by the duty coordinator on duty"], ranking,
                      held)
    return Choice(None, "unassigned",
                  [*ranking.reasons, why, "no duty coordinator or backup manager on duty"],
                  ranking, held)


async def _continuity(session: AsyncSession, need: Need, now: datetime, respond_by: datetime,
                      key_worker: KeyWorkerNow,
                      ) -> tuple[Choice | None, KeyWorkerNow | None]:
    """The person's key worker alone, when they can take it: no candidate list is read.

    Otherwise the key worker's facts for the ranking: as read, when the rules exclude them;
    read again when they were eligible but filled up meanwhile.
    """
    worker = key_worker.worker
    facts = _facts(worker, key_worker.absent, need.needs_shift and key_worker.on_shift)
    ranking = rank(need, [facts])
    if not ranking.ordered:
        return None, key_worker
    if await repo.take_capacity(session, worker.id, now):
        reasons = [*ranking.reasons, *ranking.ordered[0].reasons]
        return Choice(worker, "continuity", reasons, ranking, worker), key_worker
    return None, await repo.key_worker_now(session, worker.id, now,
                                           window_for(need.urgency, now, respond_by))


async def duty_holder(session: AsyncSession, need: Need, now: datetime,
                      *, dry_run: bool = False) -> WorkerRow | None:
    """The on-duty coordinator (then backup manager) who holds a referral nobody fits."""
    shifts = await repo.shifts_overlapping(session, HOLDER_ROLES, now, now + timedelta(seconds=1))
    absent = await repo.absent_now(session, now)
    workers = await repo.workers_by_ids(session, [s.keyworker_id for s in shifts])
    ordered = sorted(shifts, key=lambda s: (
        HOLDER_ROLES.index(s.role), s.locality != need.locality, s.locality is not None,
        s.starts_at, s.keyworker_id))
    for shift in ordered:
        worker = workers.get(shift.keyworker_id)
        if (worker is None or not worker.active or worker.id in absent
                or worker.id in need.declined):
            continue
        if dry_run or await repo.take_capacity(session, worker.id, now, over_cap=True):
            return WorkerRow.of(worker)
    return None


def _apply(a: Assignment, choice: Choice, link_keyworker_id: str | None, now: datetime) -> None:
    a.keyworker_id = choice.worker.id if choice.worker else None
    a.status = "offered" if choice.worker else "unassigned"
    a.via = choice.via
    a.reasons = choice.reasons
    a.candidates = [c.as_dict(i + 1) for i, c in enumerate(choice.ranking.ordered[:TOP])]
    a.accepted_at = None
    a.updated_at = now
    key_worker = choice.key_worker
    keeps_link = (link_keyworker_id is not None and key_worker is not None
                  and key_worker.active and link_keyworker_id != a.keyworker_id)
    a.cover_for = link_keyworker_id if keeps_link else None


def _announcements(a: Assignment, worker: WorkerRow | None, event: str,
                   now: datetime) -> list[outbound.OutboxRow]:
    rows = []
    if worker is not None:
        rows += [outbound.handoff(a, worker, now), outbound.referral_event(a, event, now)]
    if a.via in ("duty_coordinator", "unassigned"):
        rows.append(outbound.nobody_fits(a, now))
    return rows


def _need(a: Assignment, context: PersonContext) -> Need:
    return Need(a.locality, a.team, tuple(dict.fromkeys(a.skills)), a.urgency,
                context.link_keyworker_id, frozenset(a.declined))


async def assign(session: AsyncSession, req: AssignmentRequest, now: datetime) -> Assignment:
    """Give the referral a key worker (idempotent per referral) and hand it to them.

    One statement tells whether the referral has an assignment already, who the person's
    key worker is and whether that worker is absent or on shift; continuity then needs no
    other read, and ranking reads one page of candidates.
    """
    context = await repo.person_context(session, req.referral_id, req.person_id, now,
                                        window_for(req.urgency, now, req.respond_by))
    if context.assigned:
        existing = await repo.assignment_for(session, req.referral_id)
        if existing is not None:
            return existing
    a = Assignment(id=new_id(), referral_id=req.referral_id, reference=req.reference,
                   person_id=req.person_id, locality=req.locality, team=req.team,
                   urgency=req.urgency, respond_by=req.respond_by, skills=list(req.skills),
                   declined=[], attempt=1, created_at=now, closed_at=None)
    need = _need(a, context)
    choice = await choose(session, need, now, req.respond_by, key_worker=context.key_worker)
    _apply(a, choice, context.link_keyworker_id, now)
    await outbound.send(session, _announcements(a, choice.worker, "assigned", now), new=a)
    log.info("key worker chosen", extra={"event": "assignment.assigned", "step": a.via,
                                         "referral_id": a.referral_id,
                                         "keyworker_id": a.keyworker_id})
    return a


async def reoffer(session: AsyncSession, a: Assignment, now: datetime) -> None:
    """Offer the referral to the next ranked candidate (a new handoff, attempt n+1)."""
    context = await repo.person_context(session, None, a.person_id, now,
                                        window_for(a.urgency, now, a.respond_by))
    need = _need(a, context)
    choice = await choose(session, need, now, a.respond_by, key_worker=context.key_worker)
    a.attempt += 1
    _apply(a, choice, context.link_keyworker_id, now)
    await outbound.send(session, _announcements(a, choice.worker, "reassigned", now))
    log.info("referral offered to the next key worker",
             extra={"event": "assignment.reassigned", "step": a.via, "attempts": a.attempt,
                    "referral_id": a.referral_id, "keyworker_id": a.keyworker_id})


async def _locked(session: AsyncSession, referral_id: str) -> Assignment:
    a = await repo.assignment_for(session, referral_id, for_update=True)
    if a is None:
        raise NotFound("assignment for that referral")
    return a


async def declined(session: AsyncSession, referral_id: str, keyworker_id: str,
                   now: datetime) -> Assignment:
    """The worker declined (or the handoff expired or failed): move on to the next candidate.

    A report about a worker who no longer holds the offer changes nothing.
    """
    a = await _locked(session, referral_id)
    if a.status != "offered" or a.keyworker_id != keyworker_id:
        return a
    await repo.release_capacity(session, keyworker_id)
    a.declined = [*a.declined, keyworker_id]
    await reoffer(session, a, now)
    return a


async def accepted(session: AsyncSession, referral_id: str, keyworker_id: str,
                   now: datetime) -> Assignment:
    """The worker accepted: they become the person's key person (unless only covering)."""
    a = await _locked(session, referral_id)
    if a.keyworker_id != keyworker_id or a.status not in ("offered", "accepted"):
        return a
    if a.status == "offered":
        a.status, a.accepted_at, a.updated_at = "accepted", now, now
    if a.cover_for is None and a.person_id is not None and a.via in ("continuity", "ranking"):
        # A duty coordinator holding a referral nobody fitted does not become a key person.
        await set_link(session, a.person_id, keyworker_id, now)
    return a


async def set_link(session: AsyncSession, person_id: str, keyworker_id: str,
                   now: datetime) -> None:
    """Make `keyworker_id` the person's key person."""
    link = await repo.any_link_for(session, person_id)
    if link is None:
        repo.add(session, KeyPersonLink(person_id=person_id, keyworker_id=keyworker_id,
                                        since=now, ended_at=None))
    elif link.keyworker_id != keyworker_id or link.ended_at is not None:
        link.keyworker_id, link.since, link.ended_at = keyworker_id, now, None


async def closed(session: AsyncSession, referral_id: str, now: datetime,
                 reference: str | None = None) -> Assignment:
    """The referral is closed: free the worker's capacity; with no other open referral the
    person's key-person link ends. Closed before it was assigned (the two messages crossed),
    a closed record is kept so the late assignment request gives no one the referral."""
    a = await repo.assignment_for(session, referral_id, for_update=True)
    if a is None:
        a = Assignment(id=new_id(), referral_id=referral_id, reference=(reference or "-")[:20],
                       person_id=None, keyworker_id=None, status="closed", attempt=0,
                       via="closed_before_assignment", cover_for=None, locality="hub",
                       team=None, urgency="routine", respond_by=now, skills=[], declined=[],
                       reasons=["closed before a key worker was assigned"], candidates=[],
                       created_at=now, updated_at=now, accepted_at=None, closed_at=now)
        repo.add(session, a)
        return a
    if a.status == "closed":
        return a
    if a.status in ("offered", "accepted") and a.keyworker_id is not None:
        await repo.release_capacity(session, a.keyworker_id)
    a.status, a.closed_at, a.updated_at = "closed", now, now
    await session.flush()
    if a.person_id is not None and await repo.open_assignment_count(session, a.person_id) == 0:
        link = await repo.link_for(session, a.person_id)
        if link is not None:
            link.ended_at = now
    return a


async def retry(session: AsyncSession, referral_id: str, now: datetime) -> Assignment:
    """Staff ask for the ranking again (say a worker became free): the current holder, if
    any, lets go and the best candidate now gets a new handoff."""
    a = await _locked(session, referral_id)
    if a.status == "closed":
        raise Conflict("This referral is closed.", slug="referral-closed")
    if a.status in ("offered", "accepted") and a.keyworker_id is not None:
        await repo.release_capacity(session, a.keyworker_id)
    await reoffer(session, a, now)
    return a


async def move_people_of(session: AsyncSession, keyworker_id: str, now: datetime) -> int:
    """Reassign every open referral of an absent or deactivated worker; returns how many."""
    moved = 0
    for a in await repo.open_assignments_of(session, keyworker_id):
        await repo.release_capacity(session, keyworker_id)
        await reoffer(session, a, now)
        moved += 1
    return moved
