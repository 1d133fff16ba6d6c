"""`/api/v1/callbacks`: the people the line owes a call back (staff keys)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.common.deps import ClockDep, SessionDep, StaffDep
from services.intake import callbacks
from services.intake.models import Callback
from services.intake.schemas import (
    AttemptCreate,
    AttemptRead,
    CallbackDetail,
    CallbackRead,
    ReachBack,
)

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks"])


async def _reads(session: SessionDep, found: Sequence[Callback]) -> list[CallbackRead]:
    """Each callback with how to reach the person back (its contact's number or address)."""
    contacts = await callbacks.reach_of(session, found)
    out = []
    for callback in found:
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
    return await _reads(session, await callbacks.open_list(session, actor, limit, clock.now()))


async def _detail(session: SessionDep, callback: Callback) -> CallbackDetail:
    log = [AttemptRead.model_validate(a) for a in await callbacks.attempts_of(session,
                                                                               callback.id)]
    read = (await _reads(session, [callback]))[0]
    return CallbackDetail.model_validate({**read.model_dump(), "attempt_log": log})


@router.get("/{callback_id}", response_model=CallbackDetail)
async def get_callback(callback_id: str, session: SessionDep, actor: StaffDep,
                       clock: ClockDep) -> CallbackDetail:
    """One callback with every attempt made so far."""
    return await _detail(session, await callbacks.read(session, callback_id, actor, clock.now()))


@router.post("/{callback_id}/attempts", status_code=status.HTTP_201_CREATED,
             response_model=CallbackDetail)
async def log_attempt(callback_id: str, body: AttemptCreate, session: SessionDep,
                      actor: StaffDep, clock: ClockDep) -> CallbackDetail:
    """Log a try at calling the person back. `reached` or `closed` closes the callback; any
    other outcome keeps it on the list. A closed callback takes no more attempts (409)."""
    callback = await callbacks.log_attempt(session, callback_id, body.outcome, actor,
                                           clock.now())
    return await _detail(session, callback)
