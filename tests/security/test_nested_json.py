"""Deeply nested JSON, the cheap way to crash a recursive parser: every JSON endpoint answers
4xx (FHIR with an OperationOutcome), never an unhandled RecursionError."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from services.common.settings import Settings
from services.referral import fhir
from services.referral.app import create_app
from tests.referral.conftest import copy_rules
from tests.support.service import ServiceHarness, key_headers, running_service

PARTNER = key_headers("Nesting Partner")
FHIR = {"content-type": "application/fhir+json", "idempotency-key": "nested-json-test"}


def nested_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def in_service_request(inner: bytes) -> bytes:
    return b'{"resourceType":"ServiceRequest","status":"active","contained":[' + inner + b"]}"


@pytest.fixture
async def referral(settings: Settings, tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    factory = partial(create_app, rules_path=copy_rules(tmp_path))
    async with running_service("referral", factory, settings) as harness:
        yield harness


# Past Python's recursion limit (the json parser itself overflows) and just under it (the
# parser copes, the FHIR model's validation is what would recurse).
BODIES = [nested_array(100_000), nested_object(50_000), in_service_request(nested_array(100_000)),
          in_service_request(nested_object(900)), nested_object(900)]


@pytest.mark.parametrize("body", BODIES, ids=["array", "object", "contained-array",
                                              "contained-900", "object-900"])
async def test_deep_json_on_fhir_is_an_operation_outcome(
    referral: ServiceHarness, body: bytes, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        resp = await referral.client.post("/fhir/ServiceRequest", content=body,
                                          headers={**PARTNER, **FHIR})
    assert resp.status_code in (400, 422), resp.text[:300]
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "invalid"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("path", ["/api/v1/referrals", "/api/v1/webhooks",
                                  "/api/v1/routing/dry-run"])
async def test_deep_json_on_a_json_endpoint_is_a_problem(
    referral: ServiceHarness, path: str, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        for body in (nested_array(100_000), nested_object(50_000), nested_object(900)):
            resp = await referral.client.post(path, content=body, headers={
                **PARTNER, "content-type": "application/json"})
            assert resp.status_code in (400, 422), (path, resp.status_code, resp.text[:300])
            assert resp.headers["content-type"] == "application/problem+json"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_fhir_parser_names_the_nesting_limit() -> None:
    with pytest.raises(ValueError, match="nested"):
        fhir.load_json(nested_array(100_000))
    assert fhir.load_json(b'{"resourceType": "ServiceRequest"}') == {
        "resourceType": "ServiceRequest"}
    with pytest.raises(fhir.FhirInvalid, match="nested"):
        fhir.to_referral(json.loads(in_service_request(nested_object(200))))
