"""Every error on `/fhir/*` as a FHIR OperationOutcome, whoever raised it.

A FHIR client reads `application/fhir+json` OperationOutcomes, not problem+json. The FHIR
routes answer their own validation errors in FHIR terms; this kit module turns every other
problem+json answer on a FHIR path (an unknown path, a wrong method, a conflict, a database
outage, a crash, the gateway's 401, 413 and 429) into the same shape. It is plain ASGI and
imports nothing of the FHIR models, so the gateway can wrap its own answers with it at no
cost: `send = fhir_errors(send)` for a request whose path `is_fhir_path`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
_PROBLEM_JSON = b"application/problem+json"
# The issue-type codes of http://hl7.org/fhir/issue-type for each HTTP status.
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 406: "not-supported", 409: "conflict", 410: "deleted",
               412: "conflict", 413: "too-costly", 415: "not-supported", 422: "invalid",
               429: "throttled", 500: "exception", 502: "transient", 503: "transient",
               504: "timeout"}


def is_fhir_path(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


def issue_code(status: int) -> str:
    return ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")


def operation_outcome(code: str, issues: list[tuple[str, str]]) -> dict[str, Any]:
    """An OperationOutcome with one error issue per (FHIRPath expression, message)."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": msg,
                       **({"expression": [expr]} if expr else {})} for expr, msg in issues]}


def from_problem(status: int, problem: dict[str, Any]) -> dict[str, Any]:
    """A problem+json body as an OperationOutcome: one issue per named field, else one."""
    detail = str(problem.get("detail") or problem.get("title") or "Error")
    issues = [_issue(e, detail) for e in problem.get("errors") or [] if isinstance(e, dict)]
    return operation_outcome(issue_code(status), issues or [("", detail)])


def _issue(error: dict[str, Any], detail: str) -> tuple[str, str]:
    loc = [str(p) for p in error.get("loc", [])]
    msg = str(error.get("msg", detail))
    if loc and loc[0] in ("header", "query", "path"):
        # Not an element of the resource: no FHIRPath expression, the name goes in the text.
        return "", f"{' '.join(loc[1:])} {loc[0]}: {msg}"
    return ".".join(loc), msg


def fhir_errors(send: Send) -> Send:
    """`send`, with any problem+json answer rewritten as an OperationOutcome (same status and
    headers). Anything else passes through untouched and unbuffered."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").split(b";")[0].strip() == _PROBLEM_JSON:
                start = message
                return
        elif message["type"] == "http.response.body" and start is not None:
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await _send_outcome(send, start, b"".join(chunks))
            return
        await send(message)

    return wrapped


async def _send_outcome(send: Send, start: Message, raw: bytes) -> None:
    status = int(start["status"])
    try:
        problem = json.loads(raw)
    except ValueError:
        problem = {}
    body = json.dumps(from_problem(status, problem if isinstance(problem, dict) else {}),
                      separators=(",", ":")).encode()
    headers = [(k, v) for k, v in start.get("headers", [])
               if k.lower() not in (b"content-type", b"content-length")]
    headers += [(b"content-type", FHIR_JSON.encode()),
                (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FhirErrors:
    """Outermost middleware of the referral service: OperationOutcomes on `/fhir/*`.

    It also answers a crash there itself: the framework's last-resort handler sits outside
    every middleware and would answer problem+json.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_fhir_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, fhir_errors(tracked))
        except Exception as exc:
            if started:
                raise
            log.error("unhandled error", exc_info=exc, extra={"event": "error.unhandled"})
            await _send_outcome(tracked, {"status": 500, "headers": []}, json.dumps({
                "detail": "Something went wrong on our side; it was logged."}).encode())
