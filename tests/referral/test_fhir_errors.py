"""Every error on /fhir/* is an OperationOutcome, whoever answers it; placeholder NHS numbers
are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message

from services.common.context import H_INTERNAL_TOKEN
from services.common.fhir_errors import fhir_errors, from_problem
from services.referral import fhir
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, referral_body, subject
from tests.referral.test_fhir import FHIR, _nhs


def _is_outcome(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/fhir+json"
    outcome: dict[str, Any] = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code and outcome["issue"][0]["severity"] == "error"
    return outcome


@pytest.mark.parametrize("nhs", ["1111111111", "0000000000", "555 555 5555"])
async def test_ten_identical_digits_are_not_an_nhs_number(referral: Service, nhs: str) -> None:
    resp = await referral.client.post("/fhir/ServiceRequest", json=_nhs(nhs),
                                      headers={**POLICE, **FHIR})
    outcome = _is_outcome(resp, 422, "invalid")
    issue = next(i for i in outcome["issue"] if "Patient.identifier" in i.get("expression", []))
    assert "identical" in issue["diagnostics"]
    plain = await referral.client.post(
        "/api/v1/referrals", headers=POLICE, json=referral_body(subject=subject(nhs_number=nhs)))
    assert plain.status_code == 422
    assert plain.json()["errors"][0]["loc"] == ["subject", "nhs_number"]


async def test_an_unknown_fhir_path_and_a_wrong_method_are_operation_outcomes(
    referral: Service,
) -> None:
    _is_outcome(await referral.client.get("/fhir/Patient/1", headers=POLICE), 404, "not-found")
    _is_outcome(await referral.client.get("/fhir/ServiceRequest/a/b", headers=POLICE), 404,
                "not-found")
    _is_outcome(await referral.client.delete("/fhir/ServiceRequest/x", headers=POLICE), 405,
                "not-supported")
    elsewhere = await referral.client.get("/api/v1/nothing-here", headers=POLICE)
    assert elsewhere.headers["content-type"] == "application/problem+json"


async def test_a_request_that_bypassed_the_gateway_is_refused_in_fhir_terms(
    referral: Service,
) -> None:
    resp = await referral.client.get("/fhir/ServiceRequest/x",
                                     headers={**POLICE, H_INTERNAL_TOKEN: "wrong"})
    _is_outcome(resp, 403, "forbidden")


async def test_a_crash_on_a_fhir_route_is_a_500_outcome_that_leaks_nothing(
    referral: Service, monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()

    def broken(_: object) -> dict[str, Any]:
        raise RuntimeError("Sam Example 9434765919")

    monkeypatch.setattr(fhir, "to_resource", broken)  # the module the FHIR routes call
    resp = await referral.client.get(f"/fhir/ServiceRequest/{created['id']}", headers=POLICE)
    _is_outcome(resp, 500, "exception")
    assert "Sam" not in resp.text and "9434765919" not in resp.text


async def test_a_key_reused_with_another_body_keeps_its_type_as_an_outcome(
    referral: Service,
) -> None:
    headers = {**POLICE, **FHIR, "Idempotency-Key": "fhir-reuse-1"}
    first = await referral.client.post("/fhir/ServiceRequest", headers=headers,
                                       json=_nhs("9434765919"))
    assert first.status_code == 201, first.text
    other = _nhs("9434765919")
    other["priority"] = "routine"
    outcome = _is_outcome(await referral.client.post("/fhir/ServiceRequest", headers=headers,
                                                     json=other), 422, "invalid")
    assert outcome["issue"][0]["diagnostics"] == (
        "Idempotency-Key header: used before with a different body")


async def _through(status: int, content_type: bytes, body: bytes,
                   extra: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    sent: list[Message] = []

    async def record(message: Message) -> None:
        sent.append(message)

    send = fhir_errors(record)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body[:10], "more_body": True})
    await send({"type": "http.response.body", "body": body[10:]})
    return sent


@pytest.mark.parametrize(("status", "code"), [
    (401, "login"), (409, "conflict"), (413, "too-costly"), (429, "throttled"),
    (502, "transient"), (504, "timeout")])
async def test_the_gateway_helper_turns_its_problems_into_outcomes(status: int, code: str) -> None:
    """What the gateway answers itself on /fhir/* (no key, too large, rate limited, service
    down) goes through `fhir_errors`."""
    problem = json.dumps({"type": "https://livingwell.example/problems/x", "title": "T",
                          "status": status, "detail": "Send a valid key."}).encode()
    start, body = await _through(status, b"application/problem+json", problem,
                                 [(b"www-authenticate", b"Bearer")])
    headers = dict(start["headers"])
    assert start["status"] == status and headers[b"content-type"] == b"application/fhir+json"
    assert headers[b"www-authenticate"] == b"Bearer"
    assert int(headers[b"content-length"]) == len(body["body"])
    outcome = json.loads(body["body"])
    assert outcome == {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "diagnostics": "Send a valid key."}]}


async def test_the_helper_leaves_fhir_answers_alone() -> None:
    resource = json.dumps({"resourceType": "ServiceRequest", "id": "x" * 40}).encode()
    sent = await _through(200, b"application/fhir+json", resource)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == resource
    assert sent[0]["status"] == 200


def test_problem_fields_become_issue_expressions() -> None:
    outcome = from_problem(422, {"detail": "Check these fields: risk.self_harm.",
                                 "errors": [{"loc": ["risk", "self_harm"], "msg": "a boolean"}]})
    assert outcome["issue"] == [{"severity": "error", "code": "invalid",
                                 "diagnostics": "a boolean", "expression": ["risk.self_harm"]}]
