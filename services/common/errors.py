"""One error type and one renderer: RFC 9457 `application/problem+json`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://livingwell.example/problems/"


class ProblemError(Exception):
    """A domain error with an HTTP status and a stable problem type."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title,
                               "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.errors is not None:
            out["errors"] = self.errors
        return out


class NotFound(ProblemError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not-found", "Not found", f"No such {what}.")


class Conflict(ProblemError):
    def __init__(self, detail: str, slug: str = "conflict") -> None:
        super().__init__(409, slug, "Conflict", detail)


def invalid(loc: Sequence[str | int], msg: str, title: str = "Invalid request") -> ProblemError:
    """A 422 naming one field, for rules pydantic cannot express."""
    return ProblemError(422, "validation-error", title, msg, [{"loc": list(loc), "msg": msg}])


def problem_response(err: ProblemError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, media_type=PROBLEM_JSON,
                        headers=err.headers)


_STATUS_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                 405: "method-not-allowed", 413: "payload-too-large",
                 415: "unsupported-media-type", 429: "too-many-requests"}


def _clean_loc(loc: Sequence[Any]) -> list[Any]:
    parts = list(loc)
    return parts[1:] if parts and parts[0] == "body" else parts


def _json_error(exc: RequestValidationError) -> ProblemError | None:
    """A body that is not JSON at all, said as such (FastAPI reports the offset where parsing
    stopped as if it were a field: "Check these fields: 13.")."""
    for e in exc.errors():
        if e.get("type") != "json_invalid":
            continue
        pos = next((p for p in e.get("loc", ())[1:] if isinstance(p, int)), 0)
        doc = exc.body if isinstance(exc.body, str) else ""
        line = doc.count("\n", 0, pos) + 1
        column = pos - doc.rfind("\n", 0, pos)
        why = str((e.get("ctx") or {}).get("error") or "cannot be parsed")
        msg = f"{why}: line {line} column {column} (char {pos})"
        return ProblemError(422, "validation-error", "Invalid request",
                            f"The body is not valid JSON: {msg}.", [{"loc": ["body"], "msg": msg}])
    return None


_UNSTORABLE = ("holds a character that cannot be stored (the NUL character, U+0000) or is "
               "longer than this field allows")


def _unstorable_fields(request: Request) -> list[dict[str, Any]]:
    """Where a value the database refused came from: the query or path parameter holding a
    NUL character, else the body (read and gone by now, so not named further)."""
    found: list[dict[str, Any]] = [
        {"loc": ["query", name], "msg": _UNSTORABLE}
        for name, value in request.query_params.multi_items() if "\x00" in name + value]
    found += [{"loc": ["path", name], "msg": _UNSTORABLE}
              for name, value in request.path_params.items() if "\x00" in str(value)]
    return found or [{"loc": ["body"], "msg": _UNSTORABLE}]


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        if (broken := _json_error(exc)) is not None:
            return problem_response(broken)
        # Never echo the rejected input back: it may be a person's details.
        errors = [{"loc": _clean_loc(e.get("loc", ())), "msg": str(e.get("msg", "invalid"))}
                  for e in exc.errors()]
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in errors)
        return problem_response(ProblemError(422, "validation-error", "Invalid request",
                                             f"Check these fields: {fields}.", errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = _STATUS_SLUGS.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        title = slug.replace("-", " ").capitalize()
        return problem_response(ProblemError(exc.status_code, slug, title, detail,
                                             headers=getattr(exc, "headers", None)))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent writer got there first; the caller's retry sees the settled state.
        log.info("integrity conflict", extra={"event": "db.conflict"})
        return problem_response(ProblemError(
            409, "concurrent-update", "Conflict",
            "A concurrent request changed the same record; retry."))

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses text SQLite keeps (a NUL character) and values past a column's
        # size: the input is at fault, not the service, and nothing was stored.
        log.info("value refused by the database", extra={"event": "db.data_error"})
        errors = _unstorable_fields(request)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        return problem_response(ProblemError(422, "validation-error", "Invalid request",
                                             f"Check these fields: {fields}.", errors))

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable", extra={"event": "db.unavailable"})
        return problem_response(ProblemError(503, "unavailable", "Service unavailable",
                                             "The database is not answering; retry shortly.",
                                             headers={"Retry-After": "2"}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"event": "error.unhandled"})
        return problem_response(ProblemError(500, "internal-error", "Internal error",
                                             "Something went wrong on our side; it was logged."))
