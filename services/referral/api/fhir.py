"""FHIR R4B ServiceRequest (UK Core): the same referral in FHIR, errors as OperationOutcome."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from services.common.audit import audit
from services.common.deps import ClockDep, PartnerDep, SessionDep
from services.common.errors import ProblemError
from services.common.fhir_errors import FHIR_JSON, from_problem, issue_code, operation_outcome
from services.referral import fhir, referrals
from services.referral.api.common import org_of
from services.referral.api.referrals import IdempotencyKey
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry

log = logging.getLogger(__name__)


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def _outcome(status_code: int, issues: list[tuple[str, str]]) -> FhirResponse:
    return FhirResponse(operation_outcome(issue_code(status_code), issues),
                        status_code=status_code)


class FhirRoute(APIRoute):
    """A FHIR route's own errors in FHIR terms (issues naming FHIRPath expressions). Whatever
    else answers on `/fhir/*` is rewritten by `outcomes.FhirErrors`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except fhir.FhirInvalid as exc:
                return _outcome(422, exc.issues)
            except ProblemError as exc:
                return FhirResponse(from_problem(exc.status, exc.body()),
                                    status_code=exc.status, headers=exc.headers)
            except RequestValidationError as exc:
                return _outcome(422, [(".".join(str(p) for p in e.get("loc", ())),
                                       str(e.get("msg"))) for e in exc.errors()])

        return guarded


router = APIRouter(prefix="/fhir/ServiceRequest", tags=["FHIR"], route_class=FhirRoute)

_RESOURCE_DOC = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}


@router.post("", status_code=status.HTTP_201_CREATED, response_class=FhirResponse,
             responses={201: _RESOURCE_DOC, 200: _RESOURCE_DOC, 422: _RESOURCE_DOC},
             openapi_extra={"requestBody": {"required": True, **_RESOURCE_DOC}})
async def create_service_request(request: Request, session: SessionDep, actor: PartnerDep,
                                 clock: ClockDep, own: ReferralDep,
                                 idempotency_key: IdempotencyKey) -> Response:
    """Refer a person with a UK Core ServiceRequest (`application/fhir+json`).

    `status` active, `intent` order, `priority` routine | urgent | asap | stat; `subject`
    references a contained Patient with the person's details (NHS number under
    `https://fhir.nhs.uk/Id/nhs-number`, checked); the reason in `reasonCode.text` or `note`;
    needs as `orderDetail` codes and risk flags as `reasonCode` codes of this service's code
    systems. Answers the ServiceRequest as stored, with `occurrencePeriod.end` = respond-by.
    Problems come back as an OperationOutcome naming each element.
    """
    try:
        raw = fhir.load_json(await request.body())
    except ValueError as exc:
        where = f": {exc}" if isinstance(exc, json.JSONDecodeError) else ""
        raise fhir.FhirInvalid([("", f"The body is not valid JSON{where}.")]) from exc
    body = fhir.to_referral(raw)
    now = clock.now()
    result = await referrals.submit_partner_referral(
        session, own.rules.ruleset, own.announcer, body, org=org_of(actor),
        idempotency_key=idempotency_key, now=now, source="fhir")
    referral = await referrals.visible(session, actor, result.referral_id)
    audit(session, AuditEntry, actor, "create" if result.created else "replay", "referral",
          referral.id, now)
    return FhirResponse(fhir.to_resource(referral),
                        status_code=201 if result.created else 200,
                        headers={"Location": f"/fhir/ServiceRequest/{referral.id}"})


@router.get("/{referral_id}", response_class=FhirResponse, responses={200: _RESOURCE_DOC})
async def read_service_request(referral_id: str, session: SessionDep, actor: PartnerDep,
                               clock: ClockDep) -> Response:
    """One of your organisation's referrals as a ServiceRequest: status, priority from urgency,
    `occurrencePeriod.end` = respond-by. Someone else's is a 404 OperationOutcome."""
    referral = await referrals.visible(session, actor, referral_id)
    audit(session, AuditEntry, actor, "read", "referral", referral.id, clock.now())
    return FhirResponse(fhir.to_resource(referral))
