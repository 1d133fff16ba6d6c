"""The roster: key workers added, changed or taken off, and their absences, each change with
its checks, its audit entry and its effect on referrals.

A function named `…_and_reassign` also hands referrals on through the outbox: a worker's
open referrals to other workers (when they leave or are away), or a queued retry of the
referrals waiting for a key worker (when a change may let them fit).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import NotFound, ProblemError
from services.common.ids import new_id
from services.common.outbox import enqueue
from services.keyperson import assignment, waiting
from services.keyperson import repository as repo
from services.keyperson.areas import AreaBook
from services.keyperson.models import Absence, AuditEntry, KeyWorker, OutboxMessage
from services.keyperson.schemas import AbsenceCreate, KeyWorkerCreate, KeyWorkerUpdate

log = logging.getLogger(__name__)
ABSENCE_STARTS_HANDLER = "absence.starts"  # the local timer that moves an absent worker's people
# Fields whose change may let a waiting referral fit this worker now.
_FITS = frozenset({"localities", "teams", "max_caseload", "active"})


async def get_worker(session: AsyncSession, keyworker_id: str) -> KeyWorker:
    """One worker; 404 when there is none with that id."""
    worker = await repo.get_keyworker(session, keyworker_id)
    if worker is None:
        raise NotFound("key worker")
    return worker


def _phone_taken() -> ProblemError:
    msg = ("another active key worker has this mobile: replies from it could not be told "
           "apart")
    return ProblemError(409, "phone-in-use", "Conflict", msg, [{"loc": ["phone"], "msg": msg}])


async def _flush_phone(session: AsyncSession) -> None:
    """Write now, so that a concurrent worker with the same mobile (the database's unique
    index on active workers' phones) is refused as such, not as a generic conflict."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if "phone" in str(exc.orig).lower():
            raise _phone_taken() from exc
        raise


async def add_worker_and_reassign(session: AsyncSession, areas: AreaBook,
                                  body: KeyWorkerCreate, actor: Actor,
                                  now: datetime) -> KeyWorker:
    """Put a worker on the roster (localities and teams routing gives, a mobile no other
    active worker has), then queue a retry of the referrals waiting for a key worker."""
    areas.refuse_unknown(body.model_dump())
    if await repo.phone_in_use(session, body.phone):
        raise _phone_taken()
    worker = KeyWorker(id=new_id(), caseload=0, active=True, last_assigned_at=None,
                       created_at=now, updated_at=now, **body.model_dump())
    repo.add(session, worker)
    await _flush_phone(session)
    await repo.set_areas(session, worker)
    audit(session, AuditEntry, actor, "create", "keyworker", worker.id, now)
    waiting.queue_retry(session, now)
    return worker


async def update_worker_and_reassign(session: AsyncSession, areas: AreaBook,
                                     keyworker_id: str, body: KeyWorkerUpdate, actor: Actor,
                                     now: datetime) -> KeyWorker:
    """Change some fields of a worker (checked as when adding one). Taken off (`active`
    false), their open referrals go to other workers; a change that may let a waiting
    referral fit them queues a retry of the waiting referrals."""
    worker = await get_worker(session, keyworker_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    areas.refuse_unknown(changes)
    phone = changes.get("phone") or worker.phone
    active = changes.get("active", worker.active) is not False
    if active and await repo.phone_in_use(session, phone, besides=worker.id):
        raise _phone_taken()
    for name, value in changes.items():
        if value is not None or name == "email":
            setattr(worker, name, value)
    worker.updated_at = now
    if "localities" in changes or "teams" in changes:
        await repo.set_areas(session, worker)
    await _flush_phone(session)
    if changes.get("active") is False:
        await assignment.move_people_of(session, worker.id, now)
    elif _FITS & changes.keys():
        waiting.queue_retry(session, now)
    audit(session, AuditEntry, actor, "update", "keyworker", worker.id, now)
    await session.refresh(worker)
    return worker


async def deactivate_and_reassign(session: AsyncSession, keyworker_id: str, actor: Actor,
                                  now: datetime) -> KeyWorker:
    """Take a worker off the roster: no new referrals, their open ones handed to other
    workers; the record and its history stay (`active: false`)."""
    worker = await get_worker(session, keyworker_id)
    if worker.active:
        worker.active, worker.updated_at = False, now
        await session.flush()
        await assignment.move_people_of(session, worker.id, now)
        audit(session, AuditEntry, actor, "deactivate", "keyworker", worker.id, now)
    await session.refresh(worker)
    return worker


async def add_absence_and_reassign(session: AsyncSession, keyworker_id: str,
                                   body: AbsenceCreate, actor: Actor,
                                   now: datetime) -> tuple[Absence, int]:
    """Record an absence, and how many open referrals moved to cover now.

    Started already, the worker's open referrals go to cover now; starting later, a timer
    moves them then. Either way a timer at its end tries the waiting referrals again (the
    worker is back). The person's key person stays the same, so continuity returns.
    """
    worker = await get_worker(session, keyworker_id)
    absence = Absence(id=new_id(), keyworker_id=worker.id, kind=body.kind,
                      starts_at=body.starts_at, ends_at=body.ends_at, created_at=now)
    repo.add(session, absence)
    await session.flush()
    moved = 0
    if absence.starts_at <= now < absence.ends_at:
        moved = await assignment.move_people_of(session, worker.id, now)
    elif absence.starts_at > now:
        enqueue(session, OutboxMessage, key=f"absence:{absence.id}", target="local",
                path=ABSENCE_STARTS_HANDLER, payload={"absence_id": absence.id}, now=now,
                delay=(absence.starts_at - now).total_seconds())
    if absence.ends_at > now:  # back at work: what waited for a key worker is tried again
        waiting.queue_retry(session, now, delay=(absence.ends_at - now).total_seconds(),
                            key=f"absence:{absence.id}:ends")
    audit(session, AuditEntry, actor, "create", "absence", absence.id, now)
    return absence, moved


async def start_absence_and_reassign(session: AsyncSession, absence_id: str,
                                     now: datetime) -> int:
    """The absence timer: the worker's open referrals go to cover, unless the absence was
    cancelled or is over already. Returns how many moved."""
    absence = await repo.get_absence(session, absence_id)
    if absence is None or not absence.starts_at <= now < absence.ends_at:
        return 0
    moved = await assignment.move_people_of(session, absence.keyworker_id, now)
    log.info("absence started; open referrals handed to cover",
             extra={"event": "absence.start", "keyworker_id": absence.keyworker_id,
                    "count": moved})
    return moved


async def absences_of(session: AsyncSession, keyworker_id: str) -> Sequence[Absence]:
    """A worker's absences, earliest first; 404 for no such worker."""
    await get_worker(session, keyworker_id)
    return await repo.absences_of(session, keyworker_id)


async def cancel_absence_and_reassign(session: AsyncSession, keyworker_id: str,
                                      absence_id: str, actor: Actor, now: datetime) -> None:
    """Cancel an absence: referrals already with cover stay there; a retry of the waiting
    referrals is queued (the worker is available again)."""
    absence = await repo.get_absence(session, absence_id)
    if absence is None or absence.keyworker_id != keyworker_id:
        raise NotFound("absence")
    await repo.remove(session, absence)
    waiting.queue_retry(session, now)
    audit(session, AuditEntry, actor, "delete", "absence", absence_id, now)


async def roster_with_absences(session: AsyncSession, now: datetime,
                               ) -> list[tuple[KeyWorker, list[Absence]]]:
    """Everyone on the roster by name (those taken off it last), each with their absences
    that have not ended."""
    workers = sorted(await repo.list_keyworkers(session), key=lambda w: (not w.active, w.name))
    away: dict[str, list[Absence]] = {}
    for a in await repo.absences_not_ended(session, now):
        away.setdefault(a.keyworker_id, []).append(a)
    return [(w, away.get(w.id, [])) for w in workers]
