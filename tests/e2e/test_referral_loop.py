"""Referral through the real gateway: FHIR in and out, problem+json and OperationOutcome errors,
a dry run, and an SLA clock that alerts the duty coordinator when nobody accepts in time."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e

FHIR = {"content-type": "application/fhir+json"}
SERVICE_REQUEST: dict[str, Any] = {
    "resourceType": "ServiceRequest", "status": "active", "intent": "order",
    "priority": "urgent", "subject": {"reference": "#p"},
    "identifier": [{"system": "https://housing.example/ref", "value": "HSG-9"}],
    "contained": [{"resourceType": "Patient", "id": "p",
                   "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                                   "value": "9434765919"}],
                   "telecom": [{"system": "phone", "value": "07911 123456"}],
                   "address": [{"line": ["1 Example Road"], "postalCode": "SE27 9AA"}]}],
    "reasonCode": [{"text": "Facing eviction, not coping"}],
    "orderDetail": [{"coding": [{"system": "https://livingwell.example/fhir/CodeSystem/need",
                                 "code": "housing"}]}],
}


async def test_a_housing_officer_refers_by_fhir_and_reads_it_back(stack: Stack) -> None:
    housing = stack.auth(f"Lambeth Housing {uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        created = await http.post("/fhir/ServiceRequest", json=SERVICE_REQUEST,
                                  headers={**housing, **FHIR})
        assert created.status_code == 201, created.text
        assert created.headers["content-type"].startswith("application/fhir+json")
        rid = created.json()["id"]
        got = await http.get(f"/fhir/ServiceRequest/{rid}", headers=housing)
        assert got.status_code == 200 and got.json()["priority"] == "urgent"
        assert got.json()["occurrencePeriod"]["end"]
        as_json = (await http.get(f"/api/v1/referrals/{rid}", headers=housing)).json()
        assert (as_json["locality"], as_json["team"]) == ("south_east", "living_well_network")

        bad = await http.post("/fhir/ServiceRequest", headers={**housing, **FHIR},
                              json={**SERVICE_REQUEST, "priority": "whenever"})
        assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"
        problem = await http.post("/api/v1/referrals", headers=housing, json={
            "subject": {"phone": "12"}, "reason": "x"})
        assert problem.status_code == 422
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["errors"][0]["loc"] == ["subject", "phone"]

        dry = await http.post("/api/v1/routing/dry-run", headers=housing,
                              json={"postcode": "M1 1AE", "risk": {"self_harm": True}})
        assert (dry.json()["locality"], dry.json()["urgency"]) == ("hub", "very_urgent")


async def test_nobody_accepting_alerts_the_duty_coordinator_before_the_deadline(
    stack: Stack,
) -> None:
    police = stack.auth(f"Police SLA {uuid.uuid4().hex[:6]}")
    staff = stack.auth("Living Well Hub", "staff")
    body = {"subject": {"phone": "07911 123456", "postcode": "SW16 2AA"},
            "reason": "Worried about a neighbour", "risk": {"self_harm": True}}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        created = (await http.post("/api/v1/referrals", json=body, headers=police)).json()
        assert created["urgency"] == "very_urgent"
        await stack.advance_clock(3.1 * 3600)  # past 75 % of the four-hour window

        async def alerted() -> list[dict[str, Any]]:
            alerts = (await http.get("/api/v1/alerts?limit=500", headers=staff)).json()
            return [a for a in alerts if a["referral_id"] == created["id"]
                    and a["kind"] == "sla_at_risk"]

        [alert] = await eventually(alerted, timeout=20, what="the at-risk alert")
        assert alert["reference"] == created["reference"]
        at_risk = (await http.get("/api/v1/sla/referrals?state=at_risk&limit=500",
                                  headers=staff)).json()
        assert created["id"] in {r["id"] for r in at_risk}
