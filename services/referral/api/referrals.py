"""The partner API: create, read and list referrals, add information, withdraw."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse

from services.common.audit import audit
from services.common.deps import ClockDep, PartnerDep, SessionDep
from services.common.errors import ProblemError, invalid
from services.referral import referrals, repository
from services.referral.api.common import org_of, partner_view
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry
from services.referral.schemas import (
    InformationCreate,
    NoteAdded,
    ReferralCreate,
    ReferralCreated,
    ReferralPage,
    ReferralRead,
    Status,
    WithdrawalCreate,
)

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])



async def _idempotency_key(key: Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200,
    description="Any unique string of yours (a UUID is ideal). Repeating a request with the "
                "same key and body returns the first answer with 200 and never makes a second "
                "referral. An empty key is refused (400).")] = None) -> str | None:
    # An empty key (e.g. `$(uuidgen)` where uuidgen is missing) used to be taken as no key:
    # the client believed its retries were safe and each one made another referral.
    if key is not None and not key.strip():
        msg = "empty; send a unique string of yours (a UUID is ideal) or leave the header out"
        raise ProblemError(400, "bad-request", "Bad request",
                           f"The Idempotency-Key header is {msg}.",
                           [{"loc": ["header", "Idempotency-Key"], "msg": msg}])
    return key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReferralCreated,
             responses={200: {"model": ReferralCreated,
                              "description": "A repeat of an earlier request (same "
                                             "Idempotency-Key and body): the first answer."},
                        400: {"description": "An empty Idempotency-Key header."},
                        409: {"description": "A request with this Idempotency-Key is still "
                                             "in progress: retry it."},
                        422: {"description": "Invalid: `errors` names each field; or this "
                                             "Idempotency-Key was used before with a "
                                             "different body. Nothing was changed."}})
async def create_referral(body: ReferralCreate, session: SessionDep, actor: PartnerDep,
                          clock: ClockDep, own: ReferralDep,
                          idempotency_key: IdempotencyKey) -> JSONResponse:
    """Refer a person to the Living Well Line.

    Give at least one way to reach the person (phone, email, or address with postcode). The
    answer carries the reference to quote and `respond_by`, the time by which the person will
    be contacted. `urgency` is your view: the service raises it when the risk flags call for it,
    never lowers it. A postcode outside the area is never refused; the referral goes to the hub.
    Send an `Idempotency-Key` so that a retry after a timeout cannot refer the person twice.
    """
    now = clock.now()
    result = await referrals.submit_partner_referral(
        session, own.rules.ruleset, own.announcer, body, org=org_of(actor),
        idempotency_key=idempotency_key, now=now)
    audit(session, AuditEntry, actor, "create" if result.created else "replay", "referral",
          result.referral_id, now)
    return JSONResponse(result.body, status_code=201 if result.created else 200)


def _cursor(created_at: datetime, referral_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{referral_id}".encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, rid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        parsed = datetime.fromisoformat(at)
    except ValueError as exc:
        raise invalid(["query", "cursor"], "not a cursor from an earlier page") from exc
    if parsed.tzinfo is None:
        raise invalid(["query", "cursor"], "not a cursor from an earlier page")
    return parsed, rid


LIST_PARAMETERS = ("status", "since", "reference", "external_reference", "limit", "cursor")


def _known_parameters_only(request: Request) -> None:
    """A misspelt filter would otherwise be ignored and the answer look like a match."""
    for name in request.query_params:
        if name not in LIST_PARAMETERS:
            raise invalid(["query", name], "not a filter of this list; the filters are "
                                           + ", ".join(LIST_PARAMETERS))


@router.get("", response_model=ReferralPage)
async def list_referrals(
    request: Request, session: SessionDep, actor: PartnerDep, clock: ClockDep,
    status_: Annotated[Status | None, Query(alias="status",
                                            description="Only this status.")] = None,
    since: Annotated[datetime | None, Query(
        description="Only referrals changed at or after this time (ISO 8601 with zone).")] = None,
    reference: Annotated[str | None, Query(
        max_length=20, description="Only the referral with this `LW-…` reference.")] = None,
    external_reference: Annotated[str | None, Query(
        max_length=200, description="Only referrals with this reference of yours.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> ReferralPage:
    """Your organisation's referrals, newest first, with status and timeline times.

    Filter by `status`, by `since` (changed at or after) to poll for news, by our `reference`
    (`LW-…`) or by your `external_reference`; page with `limit` and `cursor`. Any other query
    parameter is a 422 naming it.
    """
    _known_parameters_only(request)
    if since is not None and since.tzinfo is None:
        raise invalid(["query", "since"], "give a time zone, e.g. 2026-11-21T09:00:00Z")
    org = None if actor.is_staff else org_of(actor)
    rows = await repository.list_referrals(
        session, org=org, all_orgs=actor.is_staff, status=status_, since=since,
        reference=reference.upper() if reference else None,
        external_reference=external_reference,
        after=_parse_cursor(cursor) if cursor else None, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    events = await repository.timelines(session, [r.id for r in page])
    now = clock.now()
    for referral in page:
        audit(session, AuditEntry, actor, "list", "referral", referral.id, now)
    last = page[-1] if page else None
    return ReferralPage(items=[partner_view(r, events[r.id]) for r in page],
                        next_cursor=_cursor(last.created_at, last.id) if more and last else None)


@router.get("/{referral_id}", response_model=ReferralRead)
async def get_referral(referral_id: str, session: SessionDep, actor: PartnerDep,
                       clock: ClockDep) -> ReferralRead:
    """One of your organisation's referrals: status, respond-by and the timeline of its steps
    (received, routed, assigned, accepted, contacted, closed). Someone else's is a 404."""
    referral = await referrals.visible(session, actor, referral_id)
    events = await repository.timelines(session, [referral.id])
    audit(session, AuditEntry, actor, "read", "referral", referral.id, clock.now())
    return partner_view(referral, events[referral.id])


@router.post("/{referral_id}/information", status_code=status.HTTP_201_CREATED,
             response_model=NoteAdded,
             responses={409: {"description": "The referral is closed: it takes no more "
                                             "information."}})
async def add_information(referral_id: str, body: InformationCreate, session: SessionDep,
                          actor: PartnerDep, clock: ClockDep) -> NoteAdded:
    """Add further information to an open referral; the team sees it, it is never shown back
    through this API. A closed referral answers 409."""
    referral = await referrals.visible(session, actor, referral_id)
    now = clock.now()
    note = await referrals.add_information(session, referral, body.text, actor.org, now)
    audit(session, AuditEntry, actor, "add_information", "referral", referral.id, now)
    return NoteAdded(id=note.id, referral_id=referral.id, created_at=note.created_at)


@router.post("/{referral_id}/withdraw", response_model=ReferralRead,
             responses={409: {"description": "The referral is already closed (withdrawn, or "
                                             "closed by its key worker); nothing changed."}})
async def withdraw_referral(referral_id: str, body: WithdrawalCreate, session: SessionDep,
                            actor: PartnerDep, clock: ClockDep, own: ReferralDep) -> ReferralRead:
    """Withdraw a referral, with your reason: it closes with outcome `withdrawn` and any key
    worker assignment is called off. A referral already closed answers 409."""
    referral = await referrals.visible(session, actor, referral_id)
    now = clock.now()
    await referrals.withdraw(session, own.announcer, referral, body.reason, actor.org, now)
    audit(session, AuditEntry, actor, "withdraw", "referral", referral.id, now)
    events = await repository.timelines(session, [referral.id])
    return partner_view(referral, events[referral.id])
