"""Assignment: choose a key worker for a referral, atomically, and move it on when needed.

Capacity is taken with one conditional UPDATE (`caseload < max_caseload`, checked by its
rowcount). PostgreSQL row-locks the worker for the rest of the transaction and re-checks the
condition after a concurrent writer commits; SQLite runs one writer at a time. Either way two
assignments at the same moment can never push a worker past their maximum.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import Conflict, NotFound, invalid
from services.common.ids import new_id
from services.keyperson import outbound
from services.keyperson import repository as repo
from services.keyperson.models import Assignment, AuditEntry, KeyPersonLink, KeyWorker
from services.keyperson.ranking import NEEDS_SHIFT, Candidate, Need, Ranking, WorkerFacts, rank
from services.keyperson.repository import KeyWorkerNow, PersonContext, WorkerRow
from services.keyperson.schemas import AssignmentRequest, ExplainRequest

log = logging.getLogger(__name__)
TOP = 20
PAGE = 20  # candidates read per assignment; the rest only if all of them filled up
HOLDER_ROLES = ("duty_coordinator", "backup_manager")
# How a worker came to hold a referral that makes them the person's key person on accepting.
KEY_PERSON_VIAS = ("continuity", "ranking", "coordinator")


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


def _continuity_ids(need: Need) -> set[str]:
    ids = set(need.holders)
    if need.key_worker_id is not None:
        ids.add(need.key_worker_id)
    return ids


async def gather(session: AsyncSession, need: Need, now: datetime, respond_by: datetime, *,
                 everyone: bool = False, skip: Collection[str] = (), limit: int | None = PAGE,
                 known: Sequence[KeyWorkerNow] = (),
                 ) -> tuple[list[WorkerFacts], dict[str, WorkerRow], bool]:
    """The facts the rules need, from indexed queries only.

    By default only the best `limit` eligible workers in the ranking's own order are read,
    plus the person's key worker and the worker holding them as the caller already read
    them (`known`: those on the roster); `everyone` reads every worker of the locality and
    team, full ones too, and those two, to explain. The flag says whether every eligible
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
        missing = _continuity_ids(need) - set(workers)
        if missing:
            workers.update((i, WorkerRow.of(w)) for i, w in
                           (await repo.workers_by_ids(session, missing)).items())
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
        wanted = _continuity_ids(need)
        for kw in known:
            kid = kw.worker.id
            if kid not in wanted:
                continue
            workers.setdefault(kid, kw.worker)
            if kw.absent:
                absent.add(kid)
            if window is not None and kw.on_shift:
                on_shift.add(kid)
    facts = [_facts(w, w.id in absent, w.id in on_shift)
             for w in workers.values() if w.id not in skip]
    return facts, workers, complete


async def choose(session: AsyncSession, need: Need, now: datetime, respond_by: datetime,
                 *, dry_run: bool = False, known: Sequence[KeyWorkerNow] = ()) -> Choice:
    """Rank, then take the first candidate whose capacity can be taken atomically.

    `known`: the person's key worker (`need.key_worker_id`) and the worker holding their
    other open referrals (`need.holders`) as read with the person's context, those on the
    roster; a dry run reads everything itself. A worker who holds the person already takes
    the referral without a new place: a caseload counts people.
    """
    tried: set[str] = set()
    ranking = Ranking()
    if _continuity_ids(need) and not dry_run and known:
        quick, known = await _continuity(session, need, now, respond_by, known)
        if quick is not None:
            return quick
    held = next((k.worker for k in known if k.worker.id == need.key_worker_id), None)
    for limit in (PAGE, None):  # the first page nearly always suffices
        facts, workers, complete = await gather(session, need, now, respond_by,
                                                everyone=dry_run, skip=tried, limit=limit,
                                                known=known)
        held = workers.get(need.key_worker_id or "", held)
        ranking = rank(need, facts)
        for cand in ranking.ordered:
            tried.add(cand.keyworker_id)
            if (dry_run or cand.holds_person
                    or await repo.take_capacity(session, cand.keyworker_id, now)):
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
                      known: Sequence[KeyWorkerNow],
                      ) -> tuple[Choice | None, list[KeyWorkerNow]]:
    """The person's key worker, else the worker already holding them, when they can take
    it: no candidate list is read.

    Otherwise their facts for the ranking: as read, when the rules exclude them; read again
    when they were eligible but filled up meanwhile.
    """
    by_id = {k.worker.id: k for k in known}
    facts = [_facts(k.worker, k.absent, need.needs_shift and k.on_shift) for k in known]
    ranking = rank(need, facts)
    key_worker = by_id.get(need.key_worker_id or "")
    again: list[KeyWorkerNow] = list(known)
    for cand in ranking.ordered:
        worker = by_id[cand.keyworker_id].worker
        if cand.holds_person or await repo.take_capacity(session, worker.id, now):
            reasons = [*ranking.reasons, *cand.reasons]
            return Choice(worker, "continuity", reasons, ranking,
                          key_worker.worker if key_worker else None), again
        fresh = await repo.key_worker_now(session, worker.id, now,
                                          window_for(need.urgency, now, respond_by))
        again = [k for k in again if k.worker.id != worker.id] + ([fresh] if fresh else [])
    return None, again


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


def apply_choice(a: Assignment, choice: Choice, link_keyworker_id: str | None,
                 now: datetime) -> None:
    """Record the choice on the assignment (who, by which rule, why, covering whom)."""
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
                   now: datetime) -> list[repo.OutboxRow]:
    rows = []
    if worker is not None:
        rows += [outbound.handoff(a, worker, now), outbound.referral_event(a, event, now)]
    if a.via in ("duty_coordinator", "unassigned"):
        rows.append(outbound.nobody_fits(a, now))
    return rows


def _need(a: Assignment, context: PersonContext) -> Need:
    return Need(a.locality, a.team, tuple(dict.fromkeys(a.skills)), a.urgency,
                context.link_keyworker_id, frozenset(a.declined), context.holders)


async def _known(session: AsyncSession, context: PersonContext, now: datetime,
                 window: tuple[datetime, datetime] | None) -> list[KeyWorkerNow]:
    """The key person and the worker holding the person, as assignment sees them now: read
    with the context, and the holder once more only when both exist and differ (cover)."""
    known = [context.key_worker] if context.key_worker is not None else []
    holder = context.holder_id
    if holder is not None and all(k.worker.id != holder for k in known):
        extra = await repo.key_worker_now(session, holder, now, window)
        if extra is not None:
            known.append(extra)
    return known


async def settle_need(session: AsyncSession, a: Assignment, now: datetime,
                      ) -> tuple[Need, list[KeyWorkerNow], PersonContext]:
    """What an existing referral needs now, and the continuity workers' facts."""
    window = window_for(a.urgency, now, a.respond_by)
    context = await repo.person_context(session, a.referral_id, a.person_id, now, window,
                                        new=False)
    return _need(a, context), await _known(session, context, now, window), context


async def assign(session: AsyncSession, req: AssignmentRequest, now: datetime) -> Assignment:
    """Give the referral a key worker (idempotent per referral) and hand it to them.

    One statement tells whether the referral has an assignment already, who the person's
    key worker is and whether that worker is absent or on shift; continuity then needs no
    other read, and ranking reads one page of candidates.
    """
    window = window_for(req.urgency, now, req.respond_by)
    await repo.lock_person(session, req.person_id)
    context = await repo.person_context(session, req.referral_id, req.person_id, now, window)
    if context.assigned:
        existing = await repo.assignment_for(session, req.referral_id)
        if existing is not None:
            return existing
    a = Assignment(id=new_id(), referral_id=req.referral_id, reference=req.reference,
                   person_id=req.person_id, locality=req.locality, team=req.team,
                   urgency=req.urgency, respond_by=req.respond_by, skills=list(req.skills),
                   declined=[], attempt=1, created_at=now, closed_at=None,
                   key_person_id=context.link_keyworker_id)
    need = _need(a, context)
    known = await _known(session, context, now, window)
    choice = await choose(session, need, now, req.respond_by, known=known)
    apply_choice(a, choice, context.link_keyworker_id, now)
    await outbound.send(session, _announcements(a, choice.worker, "assigned", now), new=a)
    log.info("key worker chosen", extra={"event": "assignment.assigned", "step": a.via,
                                         "referral_id": a.referral_id,
                                         "keyworker_id": a.keyworker_id})
    return a


async def reoffer(session: AsyncSession, a: Assignment, now: datetime) -> None:
    """Offer the referral to the next ranked candidate (a new handoff, attempt n+1)."""
    need, known, context = await settle_need(session, a, now)
    choice = await choose(session, need, now, a.respond_by, known=known)
    a.attempt += 1
    apply_choice(a, choice, context.link_keyworker_id, now)
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
    await let_go(session, a)
    a.declined = [*a.declined, keyworker_id]
    await reoffer(session, a, now)
    return a


async def let_go(session: AsyncSession, a: Assignment) -> None:
    """The holder lets go of the referral (it waits for a new choice): their caseload is
    counted again, so the person leaves it only with their last open referral there."""
    holder = a.keyworker_id
    if holder is None or a.status not in repo.HELD:
        return
    a.keyworker_id, a.status = None, "unassigned"
    await repo.recount_caseload(session, holder)


async def accepted(session: AsyncSession, referral_id: str, keyworker_id: str,
                   now: datetime) -> Assignment:
    """The worker accepted: they become the person's key person (unless only covering)."""
    a = await _locked(session, referral_id)
    if a.keyworker_id != keyworker_id or a.status not in ("offered", "accepted"):
        return a
    if a.status == "offered":
        a.status, a.accepted_at, a.updated_at = "accepted", now, now
    if a.cover_for is None and a.person_id is not None and a.via in KEY_PERSON_VIAS:
        # A duty coordinator holding a referral nobody fitted does not become a key person;
        # a worker a coordinator chose from the board does, as one the rules chose.
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
    holder = a.keyworker_id if a.status in repo.HELD else None
    a.status, a.closed_at, a.updated_at = "closed", now, now
    await session.flush()
    if holder is not None:
        await repo.recount_caseload(session, holder)
    if a.person_id is not None and await repo.open_assignment_count(session, a.person_id) == 0:
        link = await repo.link_for(session, a.person_id)
        if link is not None:
            link.ended_at = now
    return a


async def reoffer_on_request(session: AsyncSession, referral_id: str, actor: Actor,
                             now: datetime) -> Assignment:
    """Staff or a coordinator ask for the ranking again (say a worker became free): the
    current holder, if any, lets go and the best candidate now gets a new handoff."""
    a = await _locked(session, referral_id)
    if a.status == "closed":
        raise Conflict("This referral is closed.", slug="referral-closed")
    await let_go(session, a)
    await reoffer(session, a, now)
    audit(session, AuditEntry, actor, "reassign", "assignment", a.id, now)
    return a


async def hand_to_chosen_worker(session: AsyncSession, referral_id: str, keyworker_id: str,
                                actor: Actor, now: datetime) -> Assignment:
    """A coordinator gives the referral to a worker of their choice: whoever holds it lets
    go and that worker gets a new handoff. The worker must be active, present and below
    their maximum; one who holds it already keeps it, with nothing sent."""
    a = await _locked(session, referral_id)
    if a.status == "closed":
        raise Conflict("This referral is closed.", slug="referral-closed")
    worker = await repo.get_keyworker(session, keyworker_id)
    if worker is None or not worker.active:
        raise invalid(["body", "keyworker_id"], "no active key worker with that id")
    if worker.id in await repo.absent_now(session, now):
        raise invalid(["body", "keyworker_id"], "this key worker is absent now")
    if a.keyworker_id == worker.id and a.status in repo.HELD:
        return a
    await let_go(session, a)
    if not await repo.take_capacity(session, worker.id, now):
        raise Conflict("This key worker is at their maximum caseload.", slug="caseload-full")
    a.attempt += 1
    a.keyworker_id, a.status, a.via = worker.id, "offered", "coordinator"
    a.reasons = ["chosen by a coordinator on the Hub board"]
    a.accepted_at, a.cover_for, a.updated_at = None, None, now
    await outbound.send(session, [outbound.handoff(a, WorkerRow.of(worker), now),
                                  outbound.referral_event(a, "reassigned", now)])
    audit(session, AuditEntry, actor, "assign_to", "assignment", a.id, now)
    return a


async def keep_cover(session: AsyncSession, referral_id: str, actor: Actor,
                     now: datetime) -> Assignment:
    """The person wishes to stay with the worker covering them: that worker becomes their
    key person (at once if they accepted, else on accepting), so continuity no longer
    returns them to the previous one."""
    a = await _locked(session, referral_id)
    if a.cover_for is None or a.keyworker_id is None or a.status not in ("offered", "accepted"):
        raise Conflict("This referral is not held by a covering worker.")
    a.cover_for, a.updated_at = None, now
    if a.status == "accepted" and a.person_id is not None:
        await set_link(session, a.person_id, a.keyworker_id, now)
    audit(session, AuditEntry, actor, "keep_cover", "assignment", a.id, now)
    return a


async def read_as(session: AsyncSession, referral_id: str, actor: Actor,
                  now: datetime) -> Assignment:
    """One referral's assignment as it stands, the read recorded in the audit log."""
    a = await repo.assignment_for(session, referral_id)
    if a is None:
        raise NotFound("assignment for that referral")
    audit(session, AuditEntry, actor, "read", "assignment", a.id, now)
    return a


async def explain(session: AsyncSession, body: ExplainRequest, now: datetime) -> Choice:
    """Who would be given a referral like this now, and why, changing nothing: with a
    person, their key person and the workers holding them count as continuity."""
    link = await repo.link_for(session, body.person_id) if body.person_id else None
    holders = await repo.holders_of(session, body.person_id) if body.person_id else frozenset()
    need = Need(body.locality, body.team, tuple(body.skills), body.urgency,
                link.keyworker_id if link else None, holders=holders)
    respond_by = body.respond_by or now + timedelta(hours=72)
    return await choose(session, need, now, respond_by, dry_run=True)


@dataclass
class Standing:
    """A referral's assignment with its candidates ranked again now (nothing changed), and
    the workers those name."""

    assignment: Assignment
    ranked: list[Candidate]
    excluded: dict[str, str]
    workers: dict[str, KeyWorker]


async def candidates_now(session: AsyncSession, referral_id: str, actor: Actor,
                         now: datetime) -> Standing:
    """Who holds the referral and who would be ranked for it now (the best `TOP`), with
    the workers left out and why; the read is recorded in the audit log."""
    a = await repo.assignment_for(session, referral_id)
    if a is None:
        raise NotFound("assignment for that referral")
    need, _, _ = await settle_need(session, a, now)
    choice = await choose(session, need, now, a.respond_by, dry_run=True)
    ranked = choice.ranking.ordered[:TOP]
    workers = await repo.workers_by_ids(
        session, [c.keyworker_id for c in ranked] + list(choice.ranking.excluded))
    audit(session, AuditEntry, actor, "read_candidates", "assignment", a.id, now)
    return Standing(a, ranked, choice.ranking.excluded, workers)


async def move_people_of(session: AsyncSession, keyworker_id: str, now: datetime) -> int:
    """Reassign every open referral of an absent or deactivated worker; returns how many."""
    moved = 0
    for a in await repo.open_assignments_of(session, keyworker_id):
        await let_go(session, a)
        await reoffer(session, a, now)
        await session.flush()  # the person's next referral here follows this one's new holder
        moved += 1
    return moved
