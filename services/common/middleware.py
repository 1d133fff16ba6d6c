"""One pure-ASGI middleware for every service: internal token, who may call which paths,
request id, metrics."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.context import (
    H_ACTOR_KIND,
    H_INTERNAL_TOKEN,
    H_REQUEST_ID,
    request_id_var,
)
from services.common.errors import PROBLEM_JSON
from services.common.metrics import HTTP_LATENCY, HTTP_REQUESTS

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_FORBIDDEN = (b'{"type":"https://livingwell.example/problems/forbidden","title":"Forbidden",'
              b'"status":403,"detail":"Services are reached through the gateway."}')

# Which actor kinds may call each part of a service, first matching prefix wins. The gateway
# names the kind on everything it forwards (key, person, twilio, email, anonymous); a sibling
# service's ServiceClient names none, so no kind means "service". This is the second wall
# behind the gateway's own routing: a request the gateway forwarded for a partner key never
# reaches `/internal/...` or an unsigned webhook route, whatever its path turned into on the way.
SERVICE = "service"
SIBLINGS = frozenset({SERVICE})


@dataclass(frozen=True, slots=True)
class Access:
    """An allow-list of actor kinds per path prefix, and the kinds for every other path."""

    rules: tuple[tuple[str, frozenset[str]], ...]
    otherwise: frozenset[str] = SIBLINGS

    def kinds(self, path: str) -> frozenset[str]:
        """The actor kinds that may call `path` (prefixes match whole segments)."""
        for prefix, kinds in self.rules:
            if path == prefix or path.startswith(prefix + "/"):
                return kinds
        return self.otherwise


# The four API services. Anything not listed (the OpenAPI document, /docs) is for sibling
# services only: the gateway reads each service's /openapi.json with its ServiceClient.
API_ACCESS = Access((
    ("/internal", SIBLINGS),
    ("/twilio", frozenset({"twilio"})),
    ("/email/inbound", frozenset({"email"})),
    ("/api", frozenset({"key", "person"})),  # person: staff signed in at the gateway
    ("/fhir", frozenset({"key"})),
    # The network directory (referral), read-only and open to anyone (docs/directory.md).
    ("/openreferral", frozenset({"anonymous", "key", "person", SERVICE})),
))
# The staff web app: its pages for people signed in, nothing else from outside.
DESK_ACCESS = Access((("/internal", SIBLINGS), ("/desk", frozenset({"person"}))))
# The public website: anyone (forwarded as "anonymous"), except its internal paths.
SITE_ACCESS = Access((("/internal", SIBLINGS),), frozenset({"anonymous", SERVICE}))
ACCESS_BY_SERVICE = {"desk": DESK_ACCESS, "site": SITE_ACCESS}


def access_for(service: str) -> Access:
    return ACCESS_BY_SERVICE.get(service, API_ACCESS)


def allowed_kinds(path: str, service: str = "referral") -> frozenset[str]:
    """The actor kinds that may call `path` on `service`."""
    return access_for(service).kinds(path)


def has_dot_segment(path: str) -> bool:
    """`.` or `..` as a segment, or a backslash: never in a path this system routes, and a
    sign that a client or proxy on the way may have resolved it differently."""
    return "\\" in path or any(seg in (".", "..") for seg in path.split("/"))


def _problem(status: int, slug: str, title: str, detail: str) -> bytes:
    return json.dumps({"type": f"https://livingwell.example/problems/{slug}", "title": title,
                       "status": status, "detail": detail}, separators=(",", ":")).encode()


_NOT_FOUND = _problem(404, "not-found", "Not found", "No such path.")
_WRONG_CALLER = _problem(403, "forbidden", "Forbidden", "This path is not for this caller.")
_DOT_SEGMENT = _problem(400, "bad-request", "Bad request",
                        "The path must not contain dot segments or backslashes.")
# FHIR clients get an OperationOutcome for every error, this one too.
_FHIR_WRONG_CALLER = json.dumps({
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "forbidden",
               "diagnostics": "This path is not for this caller."}]},
    separators=(",", ":")).encode()
FHIR_JSON = "application/fhir+json"


def refusal(path: str, kind: str, access: Access = API_ACCESS) -> tuple[int, bytes, str] | None:
    """Status, body and content type refusing `kind` on `path`, or None when it may call."""
    if has_dot_segment(path):
        return 400, _DOT_SEGMENT, PROBLEM_JSON
    kinds = access.kinds(path)
    if kind in kinds:
        return None
    if kinds == SIBLINGS:
        return 404, _NOT_FOUND, PROBLEM_JSON  # the internal surface does not admit it exists
    if path == "/fhir" or path.startswith("/fhir/"):
        return 403, _FHIR_WRONG_CALLER, FHIR_JSON
    return 403, _WRONG_CALLER, PROBLEM_JSON


class ServiceMiddleware:
    """Refuses requests that did not come through the gateway or a sibling service."""

    def __init__(self, app: ASGIApp, *, service: str, token: str,
                 access: Access | None = None) -> None:
        self.app = app
        self.service = service
        self.token = token.encode()
        self.access = access or access_for(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid_raw = headers.get(H_REQUEST_ID.encode())
        rid = rid_raw.decode("latin-1")[:64] if rid_raw else uuid.uuid4().hex
        token = request_id_var.set(rid)
        path: str = scope["path"]
        status_box = [500]
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (H_REQUEST_ID.encode(), rid.encode())]
            await send(message)

        try:
            if path not in OPEN_PATHS:
                if not hmac.compare_digest(headers.get(H_INTERNAL_TOKEN.encode(), b""),
                                           self.token):
                    await _reply(send_wrapper, 403, _FORBIDDEN)
                    return
                kind = headers.get(H_ACTOR_KIND.encode(), SERVICE.encode()).decode("latin-1")
                refused = refusal(path, kind, self.access)
                if refused is not None:
                    await _reply(send_wrapper, *refused)
                    return
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            label = getattr(route, "path", None) or ("open" if path in OPEN_PATHS else "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], label, status_box[0]).inc()
            HTTP_LATENCY.labels(self.service, label).observe(time.perf_counter() - started)
            request_id_var.reset(token)


async def _reply(send: Send, status: int, body: bytes, content_type: str = PROBLEM_JSON) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
