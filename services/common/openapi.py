"""What every operation can answer, described once for all services.

FastAPI documents the success and a 422 of its own shape (`HTTPValidationError`,
`application/json`); the services answer every error as RFC 9457 `application/problem+json`
(FHIR operations: an `OperationOutcome` in `application/fhir+json`). `install_openapi` makes
each service's `/openapi.json` say so: one `Problem` schema, and for every operation each
error status it can answer, with its media type, its headers and when it happens. The rules
follow the kit (errors.py, deps.py, middleware.py), so a route declares nothing unless it has
something to add: `responses={409: {"description": "…"}}` on a route keeps its own words and
gets the problem body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from services.common.errors import PROBLEM_JSON

FHIR_JSON = "application/fhir+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OUTCOME_REF = {"$ref": "#/components/schemas/OperationOutcome"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": "An RFC 9457 problem. `type` is stable per kind of problem; `errors` "
                       "names each field that was wrong (never echoing what was sent).",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri",
                     "examples": ["https://livingwell.example/problems/validation-error"]},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemField"}},
        },
    },
    "ProblemField": {
        "title": "ProblemField",
        "type": "object",
        "description": "One thing wrong: where (`loc`, e.g. `[\"subject\", \"phone\"]` or "
                       "`[\"header\", \"Idempotency-Key\"]`) and what (`msg`).",
        "required": ["loc", "msg"],
        "properties": {
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
            "msg": {"type": "string"},
        },
    },
    "OperationOutcome": {
        "title": "OperationOutcome",
        "type": "object",
        "description": "A FHIR R4 OperationOutcome: one error issue per element that was "
                       "wrong (`expression`), or one issue saying what happened.",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            }},
        },
    },
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.",
                               "schema": {"type": "integer", "minimum": 0}}}

# When each status is answered, in the words a partner's developer needs.
WHEN: dict[int, str] = {
    400: "Malformed: a request target with dot segments or backslashes, or a header that "
         "cannot be used (e.g. an empty `Idempotency-Key`). Nothing was changed.",
    401: "No key, or a key that is unknown or revoked (`WWW-Authenticate` says how to "
         "authenticate).",
    403: "This key's role (or this caller) may not use this operation.",
    404: "Absent, or not yours: another organisation's record is answered the same way.",
    409: "State conflict: the record's state does not allow this, or a concurrent request "
         "changed it first (a retry sees the settled state). Nothing was changed.",
    413: "The body is larger than accepted.",
    422: "Invalid: `errors` names each field (`loc`) and what is wrong with it (`msg`). "
         "Nothing was changed.",
    429: "Rate limited: retry after `Retry-After` seconds.",
    500: "An unexpected fault on our side; it was logged. Retrying may help.",
    502: "The service behind the gateway answered with a fault; retry shortly.",
    503: "Temporarily unavailable (e.g. the database is not answering); retry after "
         "`Retry-After` seconds.",
    504: "The service behind the gateway did not answer in time; retry shortly (with the "
         "same `Idempotency-Key` where there is one).",
}
FHIR_WHEN = {422: "Invalid: one issue per element that is wrong (`expression`, "
                  "`diagnostics`). Nothing was changed."}
HEADERS: dict[int, dict[str, Any]] = {429: RETRY_AFTER, 503: RETRY_AFTER, 502: RETRY_AFTER,
                                      504: RETRY_AFTER}
WRITES = frozenset({"post", "put", "patch", "delete"})
# An operation that reads who calls (services.common.deps.get_actor, under require_role and
# every other role check) can refuse them: 403.
_WHO_CALLS = "get_actor"


def error_content(fhir: bool) -> dict[str, Any]:
    """The body of an error: a problem, or an OperationOutcome on a FHIR operation."""
    if fhir:
        return {FHIR_JSON: {"schema": OUTCOME_REF}}
    return {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def error_response(status: int, fhir: bool = False, description: str | None = None,
                   ) -> dict[str, Any]:
    """One documented error status: when, what body, which headers."""
    when = FHIR_WHEN.get(status) if fhir else None
    out: dict[str, Any] = {"description": description or when or WHEN.get(status, "An error."),
                           "content": error_content(fhir)}
    if status in HEADERS:
        out["headers"] = dict(HEADERS[status])
    return out


def is_fhir(operation: dict[str, Any]) -> bool:
    """An operation whose successes are FHIR resources answers its errors in FHIR too."""
    return any(FHIR_JSON in (r.get("content") or {})
               for code, r in operation.get("responses", {}).items() if code.startswith("2"))


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Every API route as served (prefixes and router dependencies applied), routers included
    by `include_router` opened up as FastAPI's own OpenAPI generator does."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before route contexts: included routes are flat
        yield from (r for r in routes if isinstance(r, routing.APIRoute))
        return
    for context in contexts(list(routes)):
        if isinstance(context.original_route, routing.APIRoute):
            yield context


def _calls(dependant: Dependant) -> Iterator[str]:
    for dep in dependant.dependencies:
        yield getattr(dep.call, "__qualname__", "")
        yield from _calls(dep)


def statuses_of(route: Any, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses `route` can answer, from what the kit does for it."""
    out = {400, 500, 503}  # malformed target or header; a fault; the database not answering
    if operation.get("parameters") or operation.get("requestBody"):
        out.add(422)
    if "{" in route.path_format:
        out.add(404)
    if method in WRITES:
        out.add(409)  # the kit answers a concurrent write's IntegrityError with a 409
    if _WHO_CALLS in _calls(route.dependant):
        out.add(403)
    return out


def describe_errors(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """`schema` (FastAPI's document of `routes`) with every operation's errors described."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(SCHEMAS)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    paths = schema.get("paths", {})
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        for method in sorted(m.lower() for m in route.methods or ()):
            operation = paths.get(route.path_format, {}).get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            fhir = is_fhir(operation)
            declared = {str(code): spec.get("description") for code, spec
                        in route.responses.items() if isinstance(spec, dict)}
            codes = statuses_of(route, method, operation) | {
                int(code) for code in responses if code[:1] in "45"}
            for code in sorted(codes):
                responses[str(code)] = error_response(code, fhir, declared.get(str(code)))
    if not schemas:
        components.pop("schemas")
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve `app`'s OpenAPI document with every operation's errors described."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 openapi_version=app.openapi_version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = describe_errors(schema, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
