"""FHIR R4B ServiceRequest (UK Core) to and from a referral.

Validated with `fhir.resources.R4B`, then checked for what it does not enforce: status, intent,
priority codes, the NHS number system and check digit, and a way to reach the person.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from services.referral.models import Referral
from services.referral.nhs import NHS_NUMBER_SYSTEM, normalise_nhs_number
from services.referral.schemas import ReferralCreate

if TYPE_CHECKING:
    from fhir.resources.R4B.servicerequest import ServiceRequest

UK_CORE_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
REFERENCE_SYSTEM = "https://livingwell.example/fhir/Id/referral-reference"
PARTNER_REFERENCE_SYSTEM = "https://livingwell.example/fhir/Id/partner-reference"
NEED_SYSTEM = "https://livingwell.example/fhir/CodeSystem/need"
RISK_SYSTEM = "https://livingwell.example/fhir/CodeSystem/risk"
PRIORITY_TO_URGENCY = {"routine": "routine", "urgent": "urgent", "asap": "very_urgent",
                       "stat": "emergency"}
URGENCY_TO_PRIORITY = {v: k for k, v in PRIORITY_TO_URGENCY.items()}
INTENTS = ("order", "original-order")

# Where a field of the referral came from, for error messages in FHIR terms.
EXPRESSIONS = {
    "subject": "ServiceRequest.subject", "phone": "Patient.telecom", "email": "Patient.telecom",
    "nhs_number": "Patient.identifier", "date_of_birth": "Patient.birthDate",
    "postcode": "Patient.address.postalCode", "address": "Patient.address",
    "given_name": "Patient.name", "family_name": "Patient.name",
    "preferred_language": "Patient.communication", "reason": "ServiceRequest.reasonCode",
    "needs": "ServiceRequest.orderDetail", "urgency": "ServiceRequest.priority",
    "external_reference": "ServiceRequest.identifier", "referrer": "ServiceRequest.requester",
}


class FhirInvalid(ValueError):
    """An input problem, with the FHIRPath expressions it concerns."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(msg for _, msg in issues))
        self.issues = issues


def _codes(concepts: list[Any] | None, system: str) -> list[str]:
    return [c.code for concept in concepts or [] for c in concept.coding or []
            if c.system == system and c.code]


def _subject(resource: ServiceRequest, issues: list[tuple[str, str]]) -> dict[str, Any]:
    from fhir.resources.R4B.patient import Patient  # here: FHIR models cost ~4 MB at idle

    ref = resource.subject.reference or ""
    patient = next((c for c in resource.contained or [] if isinstance(c, Patient)
                    and ref == f"#{c.id}"), None)
    if patient is None:
        issues.append(("ServiceRequest.subject",
                       "subject must reference a contained Patient (\"#id\") with the person's "
                       "details"))
        return {}
    out: dict[str, Any] = {}
    if patient.name:
        name = patient.name[0]
        out["given_name"] = (name.given or [None])[0]
        out["family_name"] = name.family
    if patient.birthDate:
        out["date_of_birth"] = str(patient.birthDate)
    for ident in patient.identifier or []:
        if ident.system == NHS_NUMBER_SYSTEM:
            try:
                out["nhs_number"] = normalise_nhs_number(ident.value or "")
            except ValueError as exc:
                issues.append(("Patient.identifier", f"NHS number: {exc}"))
        elif ident.system and "nhs-number" in ident.system:
            issues.append(("Patient.identifier",
                           f"an NHS number must use the system {NHS_NUMBER_SYSTEM}"))
    for point in patient.telecom or []:
        if point.system in ("phone", "sms") and "phone" not in out:
            out["phone"] = point.value
        elif point.system == "email" and "email" not in out:
            out["email"] = point.value
    if patient.address:
        address = patient.address[0]
        if address.line:
            out["address"] = ", ".join(line for line in address.line if line)
        if address.postalCode:
            out["postcode"] = address.postalCode
    if patient.communication:
        coding = patient.communication[0].language.coding or []
        if coding and coding[0].code:
            out["preferred_language"] = coding[0].code
    return {k: v for k, v in out.items() if v is not None}


# A UK Core ServiceRequest with a contained Patient nests about ten levels; far deeper is an
# attack on the recursive parser and validators, refused before they run.
MAX_DEPTH = 32


def load_json(body: bytes) -> Any:
    """The body as JSON; a ValueError (JSONDecodeError) for anything else, including nesting
    too deep for the parser, which would otherwise overflow the stack (RecursionError)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} levels deep", "", 0) from None


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def to_referral(raw: Any) -> ReferralCreate:
    """A ServiceRequest resource (parsed JSON) as the partner referral it stands for."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "ServiceRequest":
        raise FhirInvalid([("ServiceRequest", "the body must be a ServiceRequest resource")])
    if _too_deep(raw):
        raise FhirInvalid([("ServiceRequest",
                            f"the resource is nested more than {MAX_DEPTH} levels deep")])
    from fhir.resources.R4B.servicerequest import ServiceRequest  # here: ~4 MB at idle

    try:
        resource = ServiceRequest.model_validate(raw)
    except ValidationError as exc:
        raise FhirInvalid([("ServiceRequest." + ".".join(str(p) for p in e["loc"]), e["msg"])
                           for e in exc.errors()]) from exc
    issues: list[tuple[str, str]] = []
    if resource.status != "active":
        issues.append(("ServiceRequest.status", "status must be active"))
    if resource.intent not in INTENTS:
        issues.append(("ServiceRequest.intent", f"intent must be one of {', '.join(INTENTS)}"))
    priority = resource.priority or "routine"
    if priority not in PRIORITY_TO_URGENCY:
        issues.append(("ServiceRequest.priority",
                       "priority must be one of routine, urgent, asap, stat"))
    subject = _subject(resource, issues)
    texts = [c.text for c in resource.reasonCode or [] if c.text]
    texts += [n.text for n in resource.note or [] if n.text]
    if not texts:
        issues.append(("ServiceRequest.reasonCode", "give the reason as reasonCode.text or note"))
    if issues:
        raise FhirInvalid(issues)
    risk = {flag: True for flag in _codes(resource.reasonCode, RISK_SYSTEM)}
    own_ref = next((i.value for i in resource.identifier or [] if i.value), None)
    requester = resource.requester.display if resource.requester else None
    candidate = {
        "subject": subject, "reason": "\n".join(texts),
        "needs": _codes(resource.orderDetail, NEED_SYSTEM), "risk": risk,
        "urgency": PRIORITY_TO_URGENCY[priority], "external_reference": own_ref,
        "referrer": {"name": requester} if requester else None,
    }
    try:
        return ReferralCreate.model_validate(candidate)
    except ValidationError as exc:
        raise FhirInvalid([(_expression(e["loc"]), str(e["msg"])) for e in exc.errors()]) from exc


def _expression(loc: tuple[Any, ...]) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and part in EXPRESSIONS:
            return EXPRESSIONS[part]
    return "ServiceRequest"


def to_resource(referral: Referral) -> dict[str, Any]:
    """The referral as a ServiceRequest: status and times, never the person or the story."""
    from fhir.resources.R4B.servicerequest import ServiceRequest  # here: ~4 MB at idle

    if referral.status == "closed":
        status = "revoked" if referral.outcome == "withdrawn" else "completed"
    else:
        status = "active"
    identifiers = [{"system": REFERENCE_SYSTEM, "value": referral.reference}]
    if referral.external_reference:
        identifiers.append({"system": PARTNER_REFERENCE_SYSTEM,
                            "value": referral.external_reference})
    resource = ServiceRequest.model_validate({
        "resourceType": "ServiceRequest",
        "id": referral.id,
        "meta": {"profile": [UK_CORE_PROFILE], "lastUpdated": referral.updated_at.isoformat()},
        "identifier": identifiers,
        "status": status,
        "intent": "order",
        "priority": URGENCY_TO_PRIORITY[referral.urgency],
        "subject": {"display": "The person referred (details withheld)"},
        "authoredOn": referral.created_at.isoformat(),
        "occurrencePeriod": {"start": referral.created_at.isoformat(),
                             "end": referral.respond_by.isoformat()},
        "performer": [{"display": f"Living Well Line team {referral.team}"}],
        "locationCode": [{"text": referral.locality}],
        "orderDetail": [{"coding": [{"system": NEED_SYSTEM, "code": n}]}
                        for n in referral.needs] or None,
    })
    out: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    return out
