"""Handoffs for people signed in to the desk: who sees which, and who may answer one.

A key worker sees only handoffs offered to them (another's is not found, as if it did not
exist); coordinators and admins see all but answer none: only the worker offered it does,
with the same effect and idempotency as the SMS reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import NotFound
from services.notify import replies, repository
from services.notify.codes import Verb
from services.notify.deps import Notify
from services.notify.models import OPEN, AuditEntry, Handoff

MAX_LISTED = 200


def _only(actor: Actor) -> str | None:
    """Whose handoffs `actor` sees: everyone's (None) for coordinators and admins, else their
    own (a person not linked to a key worker, "", sees none)."""
    return None if actor.sees_everyone else actor.keyworker_id or ""


async def offers_for(session: AsyncSession, actor: Actor) -> Sequence[Handoff]:
    """Offers waiting for `actor` (all open offers for coordinators and admins), soonest due
    first. A read polled by the desk: no audit entry."""
    return await repository.open_offers(session, _only(actor), MAX_LISTED)


async def _visible(session: AsyncSession, actor: Actor, reference: str,
                   lock: bool = False) -> Handoff:
    """The newest handoff of `reference` this person may see; not found otherwise."""
    h = await repository.newest_of_reference(session, reference, _only(actor), lock=lock)
    if h is None:
        raise NotFound("handoff")
    return h


async def read(session: AsyncSession, actor: Actor, reference: str, now: datetime) -> Handoff:
    """One handoff `actor` may see, its reading recorded in the audit log."""
    h = await _visible(session, actor, reference)
    audit(session, AuditEntry, actor, "read", "handoff", h.id, now)
    return h


async def decide(session: AsyncSession, own: Notify, actor: Actor, reference: str,
                 verb: Verb, now: datetime) -> str:
    """Accept or decline `actor`'s offer as replying by SMS would (`replies.decide`), and
    record it in the audit log; the result's name."""
    h = await _visible(session, actor, reference, lock=True)
    if h.keyworker_id != actor.keyworker_id:
        raise NotFound("handoff")  # coordinators see offers, only the worker answers them
    result = await replies.decide(session, own, h, verb)
    audit(session, AuditEntry, actor, f"web:{verb}", "handoff", h.id, now)
    return result


def may_decide(h: Handoff, actor: Actor, now: datetime) -> bool:
    """Whether `actor` can still accept or decline `h` (their own open offer, code valid)."""
    return h.keyworker_id == actor.keyworker_id and h.status == OPEN and now <= h.code_expires_at


def accepted_by(h: Handoff, actor: Actor) -> bool:
    return h.keyworker_id == actor.keyworker_id and h.status == "accepted"
