"""The OpenAPI description says what the API really answers: each service's document and the
gateway's merged one are valid OpenAPI 3.1, and every operation lists each error it can
answer with its media type (problem+json, or an OperationOutcome on FHIR) and its headers."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from openapi_spec_validator import validate

from gateway.openapi import merge_specs
from gateway.routes import REPORT_PATH, match
from services.common.context import Actor
from services.common.deps import ActorDep
from services.common.openapi import install_openapi
from services.common.settings import Settings

API_SERVICES = ("intake", "referral", "keyperson", "notify")
PROBLEM = {"$ref": "#/components/schemas/Problem"}
OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    """Each service's own document, as the gateway fetches it."""
    settings = Settings(_env_file=None, database_url="sqlite:///unused.db")
    return {name: importlib.import_module(f"services.{name}.app").create_app(settings).openapi()
            for name in API_SERVICES}


@pytest.fixture(scope="module")
def merged(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return merge_specs(specs)


async def editor(actor: ActorDep) -> Actor:
    """A role check of a service's own (not require_role)."""
    return actor


EditorDep = Annotated[Actor, Depends(editor)]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items()
            for method, op in item.items()]


def test_every_document_is_valid_openapi_3_1(specs: dict[str, dict[str, Any]],
                                             merged: dict[str, Any]) -> None:
    for doc in (*specs.values(), merged):
        validate(doc)
    assert merged["openapi"].startswith("3.1")


def test_one_problem_schema_and_no_fastapi_validation_error(merged: dict[str, Any]) -> None:
    schemas = merged["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    assert schemas["ProblemField"]["required"] == ["loc", "msg"]
    assert not [name for name in schemas if "Problem" in name and name not in (
        "Problem", "ProblemField")], "the problem schema is declared once"
    assert "HTTPValidationError" not in schemas


def test_every_error_of_every_operation_has_a_typed_body(merged: dict[str, Any]) -> None:
    for path, method, op in operations(merged):
        fhir = path.startswith("/fhir")
        for status, response in op["responses"].items():
            if status < "400":
                continue
            assert response["description"], (path, method, status)
            content = response["content"]
            schemas = [c.get("schema") for c in content.values()]
            if "text/html" in content:
                continue  # the website's and desk's pages
            assert PROBLEM in schemas or (fhir and OUTCOME in schemas), (path, method, status)
            if fhir and status not in ("401", "413", "429", "502", "504"):
                # What the referral service answers on /fhir/* is an OperationOutcome.
                assert content["application/fhir+json"]["schema"] == OUTCOME, (path, status)


def test_each_operation_lists_what_it_can_answer(merged: dict[str, Any]) -> None:
    for path, method, op in operations(merged):
        codes = set(op["responses"])
        route = match(path)
        if path == REPORT_PATH:  # answered by the gateway itself, to a key or a session
            assert {"400", "401", "403", "413", "422", "429", "500", "503"} <= codes
            assert op["security"] == [{"bearerKey": []}, {"staffSession": []}]
            continue
        assert route is not None, path
        assert {"400", "413", "500", "503"} <= codes, (path, method, codes)
        if route.auth == "key":
            assert {"401", "403", "429", "502", "504"} <= codes, (path, method, codes)
            assert op["security"] == [{"bearerKey": []}]
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
        if "{" in path and route.auth == "key":
            assert "404" in codes, (path, method)
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in codes, (path, method)
        if method in ("post", "put", "patch", "delete"):
            assert "409" in codes, (path, method)
        if "429" in codes:
            assert "Retry-After" in op["responses"]["429"]["headers"]
    assert "Retry-After" in merged["paths"]["/api/v1/referrals"]["post"]["responses"][
        "503"]["headers"]


def test_webhooks_and_security_schemes(merged: dict[str, Any]) -> None:
    schemes = merged["components"]["securitySchemes"]
    assert schemes["bearerKey"] == {**schemes["bearerKey"], "type": "http", "scheme": "bearer"}
    assert schemes["staffSession"]["in"] == "cookie"
    sms = merged["paths"]["/twilio/sms"]["post"]
    assert sms["security"] == [{"twilioSignature": []}]
    assert "403" in sms["responses"] and "401" not in sms["responses"]
    voice = merged["paths"]["/twilio/voice"]["post"]["responses"]
    assert "429" not in voice, "a call for help is never rate limited"
    email = merged["paths"]["/email/inbound"]["post"]
    assert email["security"] == [{"emailBasic": []}] and "401" in email["responses"]
    assert "202" in email["responses"], "kept and replayed when intake does not answer"


def test_a_route_keeps_its_own_words_for_a_status() -> None:
    router = APIRouter()

    @router.post("/things/{thing_id}/close",
                 responses={409: {"description": "Already closed."}})
    async def close(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @router.get("/things")
    async def things(actor: EditorDep) -> list[str]:
        return []

    app = FastAPI()
    install_openapi(app)
    app.include_router(router)
    assert "403" in app.openapi()["paths"]["/things"]["get"]["responses"], "reads who calls"
    responses = app.openapi()["paths"]["/things/{thing_id}/close"]["post"]["responses"]
    assert responses["409"]["description"] == "Already closed."
    assert responses["409"]["content"] == {"application/problem+json": {"schema": PROBLEM}}
    assert "403" not in responses, "no role check on this route"
    assert responses["422"]["content"] == {"application/problem+json": {"schema": PROBLEM}}


def test_the_partner_sees_what_a_409_and_a_400_mean(merged: dict[str, Any]) -> None:
    withdraw = merged["paths"]["/api/v1/referrals/{referral_id}/withdraw"]["post"]["responses"]
    assert "already closed" in withdraw["409"]["description"]
    create = merged["paths"]["/api/v1/referrals"]["post"]["responses"]
    assert "empty Idempotency-Key" in create["400"]["description"]
    assert "hostile" in create["400"]["description"], "the gateway's own 400 too"
