"""FHIR R4B ServiceRequest (UK Core): create, read back, and OperationOutcome errors."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from services.referral import fhir
from tests.referral.conftest import Referral as Service
from tests.referral.factories import HOUSING, POLICE

FHIR = {"content-type": "application/fhir+json"}


def service_request(**overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "https://police.example/cad", "value": "CAD-77"}],
        "status": "active", "intent": "order", "priority": "urgent",
        "subject": {"reference": "#person"},
        "contained": [{
            "resourceType": "Patient", "id": "person",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                            "value": "9434765919"}],
            "name": [{"given": ["Sam"], "family": "Example"}], "birthDate": "1990-04-01",
            "telecom": [{"system": "phone", "value": "07911 123456"}],
            "address": [{"line": ["1 Example Road"], "postalCode": "SE27 9AA"}],
        }],
        "reasonCode": [{"text": "Low mood, not sleeping",
                        "coding": [{"system": fhir.RISK_SYSTEM, "code": "safeguarding"}]}],
        "orderDetail": [{"coding": [{"system": fhir.NEED_SYSTEM, "code": "housing"}]}],
        "requester": {"display": "PC Example"},
    }
    resource.update(overrides)
    return resource


async def test_a_service_request_round_trips_as_the_same_referral(referral: Service) -> None:
    headers = {**POLICE, **FHIR, "Idempotency-Key": str(uuid.uuid4())}
    resp = await referral.client.post("/fhir/ServiceRequest", json=service_request(),
                                      headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"] == "application/fhir+json"
    created = resp.json()
    ServiceRequest.model_validate(created)  # what we answer is valid R4B
    rid = created["id"]
    assert resp.headers["location"] == f"/fhir/ServiceRequest/{rid}"
    got = (await referral.client.get(f"/fhir/ServiceRequest/{rid}", headers=POLICE)).json()
    assert got["priority"] == "urgent" and got["status"] == "active"
    assert got["intent"] == "order" and fhir.UK_CORE_PROFILE in got["meta"]["profile"]
    as_json = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert got["occurrencePeriod"]["end"].replace("+00:00", "Z") == as_json["respond_by"]
    assert (as_json["urgency"], as_json["locality"], as_json["team"]) == (
        "urgent", "south_east", "living_well_network")
    assert {"system": fhir.PARTNER_REFERENCE_SYSTEM, "value": "CAD-77"} in got["identifier"]
    assert "Sam" not in str(got) and "9434765919" not in str(got)
    again = await referral.client.post("/fhir/ServiceRequest", json=service_request(),
                                       headers=headers)
    assert again.status_code == 200 and again.json()["id"] == rid
    other = await referral.client.get(f"/fhir/ServiceRequest/{rid}", headers=HOUSING)
    assert other.status_code == 404 and other.json()["resourceType"] == "OperationOutcome"


async def test_self_harm_as_stat_priority_maps_to_emergency(referral: Service) -> None:
    resp = await referral.client.post("/fhir/ServiceRequest", headers={**POLICE, **FHIR},
                                      json=service_request(priority="stat"))
    assert resp.json()["priority"] == "stat"


def _nhs(value: str, system: str = "https://fhir.nhs.uk/Id/nhs-number") -> dict[str, Any]:
    resource = service_request()
    patient = copy.deepcopy(resource["contained"][0])
    patient["identifier"] = [{"system": system, "value": value}]
    resource["contained"] = [patient]
    return resource


@pytest.mark.parametrize(("resource", "expression", "words"), [
    (service_request(priority="whenever"), "ServiceRequest.priority", "routine, urgent"),
    (service_request(intent="plan"), "ServiceRequest.intent", "order"),
    (service_request(status="draft"), "ServiceRequest.status", "active"),
    (_nhs("9434765918"), "Patient.identifier", "check digit"),
    (_nhs("9434765919", "https://example.org/nhs-number"), "Patient.identifier",
     "https://fhir.nhs.uk/Id/nhs-number"),
    (service_request(subject={"reference": "Patient/elsewhere"}), "ServiceRequest.subject",
     "contained Patient"),
    (service_request(reasonCode=[]), "ServiceRequest.reasonCode", "reason"),
    (service_request(orderDetail=[{"coding": [{"system": fhir.NEED_SYSTEM,
                                              "code": "gardening"}]}]),
     "ServiceRequest.orderDetail", ""),
], ids=["priority", "intent", "status", "nhs-check-digit", "nhs-system", "subject", "reason",
        "need"])
async def test_bad_service_requests_get_an_operation_outcome(
    referral: Service, resource: dict[str, Any], expression: str, words: str,
) -> None:
    resp = await referral.client.post("/fhir/ServiceRequest", json=resource,
                                      headers={**POLICE, **FHIR})
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/fhir+json"
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = next(i for i in outcome["issue"] if expression in i.get("expression", []))
    assert issue["severity"] == "error" and words in issue["diagnostics"]


async def test_not_a_resource_and_no_key_are_operation_outcomes(referral: Service) -> None:
    bad = await referral.client.post("/fhir/ServiceRequest", content=b"{not json",
                                     headers={**POLICE, **FHIR})
    assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"
    wrong = await referral.client.post("/fhir/ServiceRequest", json={"resourceType": "Patient"},
                                       headers={**POLICE, **FHIR})
    assert wrong.status_code == 422
    anonymous = await referral.client.get("/fhir/ServiceRequest/x")
    assert anonymous.status_code == 403
    assert anonymous.json()["issue"][0]["code"] == "forbidden"
