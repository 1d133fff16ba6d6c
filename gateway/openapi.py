"""One OpenAPI document for the whole public surface, merged from the services' own."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from gateway.identity.sessions import COOKIE
from gateway.routes import REPORT_PATH, Auth, Route, match
from services.common.http import ServiceClient
from services.common.openapi import SCHEMAS, error_response
from services.common.settings import SERVICES

DESCRIPTION = """\
The Living Well Line: a 24/7 single number and address for mental-health support, and the
API through which partners (police, housing, GPs) refer a person and follow the referral.

Authenticate with `Authorization: Bearer <key>`; keys belong to an organisation and carry a
role (`partner`, `staff`, `admin`). Errors are `application/problem+json` (RFC 9457, the
`Problem` schema: `type`, `title`, `status`, `detail` and `errors`, a list of `loc` and `msg`
naming each field); on `/fhir/…` they are FHIR `OperationOutcome`s (`application/fhir+json`).
Every operation lists each status it can answer and when. Twilio webhooks (`/twilio/…`) must
carry a valid `X-Twilio-Signature`."""

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerKey": {"type": "http", "scheme": "bearer",
                  "description": "An API key (`livewell keys create`): `Authorization: Bearer "
                                 "<key>`. Its role (partner, staff, admin) decides what it may "
                                 "do; a partner sees only its own organisation's referrals."},
    "staffSession": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                     "description": "A person signed in at `/desk/sign-in`; forms also carry "
                                    "the session's CSRF token."},
    "twilioSignature": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature",
                        "description": "Twilio's signature of the URL and form, made with the "
                                       "account's auth token."},
    "emailBasic": {"type": "http", "scheme": "basic",
                   "description": "The mail provider's inbound parse: HTTP basic auth with "
                                  "the password `EMAIL_INBOUND_SECRET`."},
}
SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    "key": [{"bearerKey": []}], "session": [{"staffSession": []}],
    "twilio": [{"twilioSignature": []}], "email": [{"emailBasic": []}], "public": []}
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_HTML = {"text/html": {"schema": {"type": "string"}}}
_ACCEPTED = {"application/json": {"schema": {
    "type": "object", "properties": {"status": {"const": "accepted"}}, "required": ["status"]}}}


def _gateway_answers(route: Route) -> dict[int, dict[str, Any]]:
    """What the gateway itself answers on `route`'s paths before (or instead of) the
    service, as gateway/app.py does: status → (description, media override)."""
    hostile = {"description": "A hostile or malformed request target (dot segments, encoded "
                              "slashes, control characters), refused before authentication."}
    too_large = {"description": "The body (or its declared length) is larger than accepted."}
    limited = {"description": "Rate limited (per key, per source address, or an address "
                              "with too many failed requests): retry after `Retry-After` "
                              "seconds."}
    out: dict[int, dict[str, Any]] = {400: hostile, 413: too_large, 429: limited}
    if route.auth == "key":
        out[401] = {"description": "No key, or a key that is unknown or revoked "
                                   "(`WWW-Authenticate: Bearer`).",
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}}
        out[502] = {"description": "The service behind this path answered with a fault; "
                                   "retry shortly."}
        out[504] = {"description": "The service behind this path did not answer; retry "
                                   "shortly (with the same `Idempotency-Key` if any)."}
    elif route.auth == "email":
        out[401] = {"description": "Missing or wrong basic auth (`WWW-Authenticate: Basic`).",
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}}
    elif route.auth == "twilio":
        out[403] = {"description": "Missing or invalid `X-Twilio-Signature`; nothing changed."}
        if route.prefix == "/twilio/voice":
            del out[429]  # a call for help is never refused by a rate limit
    elif route.auth == "session":
        out[403] = {"description": "A form without this session's CSRF token.",
                    "content": _HTML}
        out[503] = {"description": "The desk did not answer.", "content": _HTML}
    elif route.auth == "public" and route.service == "site":
        out[503] = {"description": "The website did not answer: a page with the numbers "
                                   "that matter.", "content": _HTML}
    elif route.auth == "public":
        out[503] = {"description": "The directory did not answer; retry shortly."}
    return out


def _describe(route: Route, operation: dict[str, Any]) -> None:
    """Add the gateway's own answers and the route's security to one operation."""
    operation["security"] = SECURITY[route.auth]
    responses = operation.setdefault("responses", {})
    fhir = route.prefix == "/fhir"
    for status, answer in _gateway_answers(route).items():
        # On a FHIR path the gateway's own answers are OperationOutcomes too (it wraps them
        # with services/common/fhir_errors.py), except a hostile target's 400, refused before
        # the path is routed: that status lists both media types.
        doc = error_response(status, fhir=fhir and status != 400,
                             description=answer["description"])
        if "content" in answer:
            doc["content"] = answer["content"]
        doc.setdefault("headers", {}).update(answer.get("headers", {}))
        if not doc["headers"]:
            del doc["headers"]
        mine = responses.get(str(status))
        if mine is None:
            responses[str(status)] = doc
            continue
        mine["description"] = (f"{mine.get('description', '')} Answered by the gateway "
                               f"itself: {doc['description']}")
        mine.setdefault("content", {}).update(doc["content"])
        if "headers" in doc:
            mine.setdefault("headers", {}).update(doc["headers"])
    if route.auth in ("twilio", "email") and route.prefix != "/twilio/voice":
        # A webhook its service did not take is kept and replayed (an SMS is answered with a
        # holding reply, the others with 202), or refused with 503 if it could not be kept.
        if route.prefix != "/twilio/sms":
            responses.setdefault("202", {
                "description": "The service did not answer: the gateway kept the webhook and "
                               "replays it.", "content": _ACCEPTED})
        responses.setdefault("503", error_response(503))


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                name = value.rsplit("/", 1)[-1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_MEDIAN = {"type": ["number", "null"]}
MONTHLY_FIGURES: dict[str, Any] = {
    "type": "object", "title": "MonthlyFigures",
    "description": "The month's figures as the contract defines them (Europe/London calendar "
                   "month; every count is of that month; people counted once across services).",
    "required": ["month", "people_supported", "people_new", "contacts", "referrals",
                 "time_to_contact_hours", "respond_by", "closed_by_outcome", "handoffs",
                 "continuity", "crisis_calls"],
    "properties": {
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "people_supported": {"type": "integer"}, "people_new": {"type": "integer"},
        "contacts": _COUNTS,
        "referrals": {"type": "object", "required": ["total"], "properties": {
            "total": {"type": "integer"}, "by_source": _COUNTS, "by_urgency": _COUNTS,
            "by_locality": _COUNTS}},
        "time_to_contact_hours": {"type": "object", "properties": {
            "n": {"type": "integer"}, "median": _MEDIAN, "p90": _MEDIAN}},
        "respond_by": {"type": "object", "additionalProperties": _COUNTS},
        "closed_by_outcome": _COUNTS,
        "handoffs": {"type": "object", "properties": {
            "offered": {"type": "integer"}, "accepted": {"type": "integer"},
            "declined": {"type": "integer"}, "median_minutes_to_accept": _MEDIAN}},
        "continuity": _COUNTS,
        "crisis_calls": _COUNTS,
    },
}


def _report_operation() -> dict[str, Any]:
    """`GET /api/v1/reports/monthly`, answered by the gateway itself (gateway/reports.py)."""
    limited = error_response(429, description="Too many refused requests from this address: "
                                              "retry after `Retry-After` seconds.")
    return {"get": {
        "summary": "The month's figures", "operationId": "monthly_figures",
        "tags": ["reports"],
        "description": "For a `staff` or `admin` key, or a coordinator or admin signed in to "
                       "the desk. `livewell report --month YYYY-MM --publish` gives the "
                       "figures with disclosure control applied.",
        "security": [{"bearerKey": []}, {"staffSession": []}],
        "parameters": [{"name": "month", "in": "query", "required": True,
                        "description": "The calendar month, `YYYY-MM` (Europe/London).",
                        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}],
        "responses": {
            "200": {"description": "The month's figures.",
                    "content": {"application/json": {"schema": MONTHLY_FIGURES}}},
            "400": error_response(400, description="A hostile or malformed request target, "
                                                   "refused before authentication."),
            "401": error_response(401, description="No key (or an unknown or revoked one) "
                                                   "and nobody signed in."),
            "403": error_response(403, description="A partner key, or a key worker signed in."),
            "413": error_response(413, description="The request's body is larger than "
                                                   "accepted."),
            "422": error_response(422, description="`month` is missing or not `YYYY-MM`."),
            "429": limited,
            "500": error_response(500),
            "503": error_response(503, description="A service did not give its part: the "
                                                   "month cannot be composed now."),
        }}}


def merge_specs(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Public paths of every service (routed by the gateway) in one document, and the
    gateway's own monthly figures."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Living Well Line API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": dict(SCHEMAS), "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearerKey": []}],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    for service, spec in specs.items():
        own = spec.get("components", {}).get("schemas", {})
        renames = {name: (name if name not in schemas or schemas[name] == body
                          else f"{service}_{name}") for name, body in own.items()}
        for name, body in own.items():
            schemas[renames[name]] = _rename_refs(copy.deepcopy(body), renames)
        for path, item in spec.get("paths", {}).items():
            route = match(path)
            if route is not None and route.service == service:
                merged["paths"][path] = _rename_refs(copy.deepcopy(item), renames)
                for method, operation in merged["paths"][path].items():
                    if method in _OPERATIONS:
                        _describe(route, operation)
    merged["paths"][REPORT_PATH] = _report_operation()
    return merged


class OpenApiCache:
    """Fetches and merges the services' documents; refreshed at most once a minute."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client
        self._doc: dict[str, Any] | None = None
        self._at = 0.0

    async def document(self) -> dict[str, Any]:
        if self._doc is not None and time.monotonic() - self._at < 60:
            return self._doc
        results = await asyncio.gather(
            *(self._client.get(s, "/openapi.json", timeout=3) for s in SERVICES),
            return_exceptions=True)
        specs: dict[str, dict[str, Any]] = {
            s: r.body for s, r in zip(SERVICES, results, strict=True)
            if not isinstance(r, BaseException) and r.ok and isinstance(r.body, dict)}
        doc = merge_specs(specs)
        if len(specs) == len(SERVICES):
            self._doc, self._at = doc, time.monotonic()
        return doc
