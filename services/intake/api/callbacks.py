"""`/api/v1/callbacks`: the people the line owes a call back (staff keys)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep, StaffDep
from services.common.errors import Conflict, NotFound
from services.intake import repository
from services.intake.models import AuditEntry, Callback, CallbackAttempt
from services.intake.schemas import (
    AttemptCreate,
    AttemptRead,
    CallbackDetail,
    CallbackRead,
    ReachBack,
)

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks"])
CLOSING = frozenset({"reached", "closed"})


async def _reads(session: SessionDep, callbacks: Sequence[Callback]) -> list[CallbackRead]:
    """Each callback with how to reach the person back (its contact's number or address)."""
    contacts = await repository.contacts_by_id(session, {c.contact_id for c in callbacks})
    out = []
    for callback in callbacks:
        read = CallbackRead.model_validate(callback)
        contact = contacts.get(callback.contact_id)
        read.reach = ReachBack.model_validate(contact) if contact is not None else None
        out.append(read)
    return out


@router.get("", response_model=list[CallbackRead])
async def list_callbacks(session: SessionDep, actor: StaffDep, clock: ClockDep,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100
                         ) -> list[CallbackRead]:
    """Open callbacks across voice, SMS and email: crisis first, then high, medium and routine
    risk, each by the earliest `due_at`. Missed and abandoned calls, calls where nobody on the
    crisis route answered, messages left for the team or a key worker, and crisis texts.
    Each carries `reach`: the number or address to call back, normalised and as received
    (`from_verified: false` for a number the metadata does not list yet). Audited."""
    found = await _reads(session, await repository.open_callbacks(session, limit))
    audit(session, AuditEntry, actor, "read_list", "callback", "open", clock.now())
    return found


async def _detail(session: SessionDep, callback: Callback) -> CallbackDetail:
    log = [AttemptRead.model_validate(a) for a in await repository.attempts_of(session,
                                                                                callback.id)]
    read = (await _reads(session, [callback]))[0]
    return CallbackDetail.model_validate({**read.model_dump(), "attempt_log": log})


@router.get("/{callback_id}", response_model=CallbackDetail)
async def get_callback(callback_id: str, session: SessionDep, actor: StaffDep,
                       clock: ClockDep) -> CallbackDetail:
    """One callback with every attempt made so far."""
    callback = await repository.get_callback(session, callback_id)
    if callback is None:
        raise NotFound("callback")
    audit(session, AuditEntry, actor, "read", "callback", callback.id, clock.now())
    return await _detail(session, callback)


@router.post("/{callback_id}/attempts", status_code=status.HTTP_201_CREATED,
             response_model=CallbackDetail)
async def log_attempt(callback_id: str, body: AttemptCreate, session: SessionDep,
                      actor: StaffDep, clock: ClockDep) -> CallbackDetail:
    """Log a try at calling the person back. `reached` or `closed` closes the callback; any
    other outcome keeps it on the list. A closed callback takes no more attempts (409)."""
    callback = await repository.get_callback(session, callback_id, for_update=True)
    if callback is None:
        raise NotFound("callback")
    if callback.status != "open":
        raise Conflict("This callback is already closed.", slug="callback-closed")
    now = clock.now()
    session.add(CallbackAttempt(callback_id=callback.id, at=now, outcome=body.outcome,
                                actor_key_id=actor.key_id))
    callback.attempts += 1
    if body.outcome in CLOSING:
        callback.status, callback.closed_at = "done", now
    audit(session, AuditEntry, actor, f"callback_{body.outcome}", "callback", callback.id, now)
    await session.flush()
    return await _detail(session, callback)
