"""Keyperson's internal API (docs/internal-api.md): assignment steps and voice-path lookups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from services.common.deps import ClockDep, SessionDep
from services.common.errors import NotFound
from services.keyperson import assignment, deliveries, duty, roster, waiting
from services.keyperson.rota import DutyRole
from services.keyperson.schemas import (
    AcceptedBody,
    AssignmentRequest,
    AssignmentResult,
    ClosedBody,
    DeclinedBody,
    KeyWorkerContact,
    KeyWorkerOfPerson,
    OnDutyNumbers,
)

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=180)]


@router.post("/assignments", response_model=AssignmentResult)
async def create_assignment(body: AssignmentRequest, session: SessionDep, clock: ClockDep,
                            key: IdempotencyKey = None) -> dict[str, Any]:
    """Give a referral its key worker (idempotent per referral)."""
    return await deliveries.once(session, key, "assign", clock,
                      lambda: assignment.assign(session, body, clock.now()))


@router.post("/assignments/{referral_id}/accepted", response_model=AssignmentResult)
async def handoff_accepted(referral_id: str, body: AcceptedBody, session: SessionDep,
                           clock: ClockDep, key: IdempotencyKey = None) -> dict[str, Any]:
    """The worker accepted the handoff."""
    return await deliveries.once(session, key, "accepted", clock, lambda: assignment.accepted(
        session, referral_id, body.keyworker_id, clock.now()))


@router.post("/assignments/{referral_id}/declined", response_model=AssignmentResult)
async def handoff_declined(referral_id: str, body: DeclinedBody, session: SessionDep,
                           clock: ClockDep, key: IdempotencyKey = None) -> dict[str, Any]:
    """The worker declined, or the handoff expired or failed: offer the next candidate."""
    return await deliveries.once(session, key, "declined", clock, lambda: assignment.declined(
        session, referral_id, body.keyworker_id, clock.now()))


@router.post("/assignments/{referral_id}/closed", response_model=AssignmentResult)
@router.post("/assignments/{referral_id}/withdrawn", response_model=AssignmentResult)
async def referral_closed(referral_id: str, session: SessionDep, clock: ClockDep,
                          body: ClosedBody | None = None,
                          key: IdempotencyKey = None) -> dict[str, Any]:
    """The referral is closed (or withdrawn by the referrer): free the worker's capacity and,
    with no other open referral for the person, end the key-person link. The body, if any,
    is optional. Arriving before the assignment request, it is kept, and the late request
    assigns no one."""
    reference = body.reference if body else None
    return await deliveries.once(session, key, "closed", clock,
                      lambda: assignment.closed(session, referral_id, clock.now(), reference))


@router.get("/rota/on-duty", response_model=OnDutyNumbers)
async def on_duty_numbers(session: SessionDep, clock: ClockDep, role: DutyRole = "crisis_duty",
                          locality: str | None = None, fallback: bool = True,
                          referral_id: str | None = None) -> OnDutyNumbers:
    """Numbers to dial now, in order; with `fallback` the escalation roles follow.

    With `referral_id` (notify fanning out a `nobody_fits` alert about that referral), an
    alert a key worker has made stale since — the referral is held by one, or closed —
    gets no numbers and `superseded: true`, so nobody is told of a problem that is over.
    """
    if referral_id is not None and await waiting.alert_superseded(session, referral_id):
        return OnDutyNumbers(numbers=[], superseded=True)
    return OnDutyNumbers(numbers=await duty.dial_numbers(session, role, clock.now(), locality,
                                                         fallback))


@router.get("/people/{person_id}/key-worker", response_model=KeyWorkerOfPerson)
async def key_worker_of(person_id: str, session: SessionDep,
                        clock: ClockDep) -> KeyWorkerOfPerson:
    """The person's key worker to put a call through to: their key person, or whoever covers
    while the key person is away; 404 when there is none."""
    found = await duty.key_worker_to_call(session, person_id, clock.now())
    if found is None:
        raise NotFound("key worker for that person")
    worker, on_duty = found
    return KeyWorkerOfPerson(keyworker_id=worker.id, phone=worker.phone, on_duty=on_duty)


@router.get("/keyworkers/{keyworker_id}", response_model=KeyWorkerContact)
async def keyworker_contact(keyworker_id: str, session: SessionDep) -> KeyWorkerContact:
    """A worker's current contact details (for notify)."""
    worker = await roster.get_worker(session, keyworker_id)
    return KeyWorkerContact(id=worker.id, phone=worker.phone, email=worker.email,
                            active=worker.active)
