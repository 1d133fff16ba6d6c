"""The Hub board's pages: `/desk/board` (the board), `/desk/board/live` (its lanes alone,
polled by htmx every few seconds; with JavaScript off a refresh shows the same), and the
steps taken from it, each a plain form (POST → redirect → GET) with the session's CSRF token.

Coordinators and admins only: anyone else gets a 403 page here, and each service refuses
them again on its own."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.common.context import H_CSRF, H_PERSON_ROLE
from services.common.settings import ServiceName
from services.desk import deps
from services.desk.backend import Backend
from services.desk.board import views
from services.desk.board.clock import clock_time
from services.desk.pages import pages

router = APIRouter(prefix="/desk/board", include_in_schema=False)
ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
ATTEMPTS = {"reached": "Reached them", "no_answer": "No answer",
            "voicemail": "Left a voicemail", "wrong_number": "Wrong number"}
CLOSE_REASONS = {"no_need": "Needs nothing from us", "duplicate": "Duplicate of another contact",
                 "elsewhere": "Handled elsewhere", "mistake": "Made by mistake or a test"}
POLL_SECONDS = 3
pages.env.filters["clock_time"] = clock_time


def coordinating(request: Request) -> bool:
    return request.headers.get(H_PERSON_ROLE, "") in ("coordinator", "admin")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    base = {"csrf_token": request.headers.get(H_CSRF, ""),
            "role": request.headers.get(H_PERSON_ROLE, ""), "attempts": ATTEMPTS,
            "close_reasons": CLOSE_REASONS, "poll_seconds": POLL_SECONDS}
    return pages.response(request, name, {**base, **context}, status_code=status)


def refused(request: Request) -> Response:
    return render(request, "board/403.jinja", {}, status=403)


def backend(request: Request) -> Backend:
    return deps.of(request.app).backend


def checked_id(value: str) -> str:
    """An id from a page's path, or the desk's 404 for anything that cannot be one."""
    if not ID.match(value):
        raise HTTPException(404)
    return value


def form_errors(body: Any, fields: tuple[str, ...],
                default: str | None = None) -> list[tuple[str, str]]:
    """A service's problem details as (form field, message) pairs: each error on the field its
    `loc` names, otherwise on `default` (the last field); the field names the services use
    for times read as words."""
    body = body if isinstance(body, dict) else {}
    out = []
    for e in body.get("errors") or [{"msg": body.get("detail")}]:
        loc = [str(part) for part in e.get("loc") or []]
        field = next((part for part in reversed(loc) if part in fields), default or fields[-1])
        message = str(e.get("msg") or "Check this").removeprefix("Value error, ")
        message = message.replace("ends_at", "the end").replace("starts_at", "the start")
        out.append((field, message[:1].upper() + message[1:]))
    return out


async def _board(request: Request) -> views.Board | Response:
    if not coordinating(request):
        return refused(request)
    try:
        return await views.read(request, backend(request), deps.of(request.app).clock.now())
    except PermissionError:
        return refused(request)


@router.get("")
async def board(request: Request) -> Response:
    found = await _board(request)
    if isinstance(found, Response):
        return found
    return render(request, "board/board.jinja", {"board": found, "digest": found.digest()})


@router.get("/live")
async def live(request: Request, digest: str = "") -> Response:
    """The lanes alone for htmx; 204 (nothing to swap, focus kept) when nothing changed."""
    found = await _board(request)
    if isinstance(found, Response):
        return found
    now = found.digest()
    if digest == now:
        return Response(status_code=204)
    return render(request, "board/lanes.jinja", {"board": found, "digest": now})


async def _step(request: Request, service: ServiceName, path: str,
                payload: dict[str, Any] | None, anchor: str) -> Response:
    if not coordinating(request):
        return refused(request)
    answer = await backend(request).call(request, "POST", service, path, payload)
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status == 422:
        return render(request, "board/problem.jinja",
                      {"message": "Choose one of the options, then try again."}, status=422)
    if answer.status == 409:
        detail = (answer.body or {}).get("detail") or "This has changed meanwhile."
        return render(request, "board/problem.jinja", {"message": detail}, status=409)
    return RedirectResponse(f"/desk/board#{anchor}", status_code=303)


@router.post("/callbacks/{callback_id}/take")
async def take(request: Request, callback_id: str) -> Response:
    return await _step(request, "intake",
                       f"/api/v1/desk/board/callbacks/{checked_id(callback_id)}/take", None,
                       "callbacks")


@router.post("/callbacks/{callback_id}/attempts")
async def attempt(request: Request, callback_id: str) -> Response:
    form = await request.form()
    return await _step(request, "intake",
                       f"/api/v1/desk/board/callbacks/{checked_id(callback_id)}/attempts",
                       {"outcome": str(form.get("outcome", ""))}, "callbacks")


@router.post("/callbacks/{callback_id}/close")
async def close(request: Request, callback_id: str) -> Response:
    form = await request.form()
    return await _step(request, "intake",
                       f"/api/v1/desk/board/callbacks/{checked_id(callback_id)}/close",
                       {"reason": str(form.get("reason", ""))}, "callbacks")


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: str) -> Response:
    return await _step(request, "notify",
                       f"/api/v1/desk/board/alerts/{checked_id(alert_id)}/acknowledge", None,
                       "alerts")


@router.get("/referrals/{referral_id}")
async def candidates(request: Request, referral_id: str) -> Response:
    """Who holds the referral and keyperson's ranking with its reasons, to choose from."""
    if not coordinating(request):
        return refused(request)
    answer = await backend(request).call(
        request, "GET", "keyperson",
        f"/api/v1/desk/board/referrals/{checked_id(referral_id)}/candidates")
    if answer.status == 403:
        return refused(request)
    if not answer.ok:
        raise HTTPException(404)
    body = answer.body
    names = {c["keyworker_id"]: c["name"] for c in body["candidates"]}
    return render(request, "board/assign.jinja", {
        "a": body, "referral_id": referral_id,
        "holder": names.get(body["keyworker_id"] or "", body["keyworker_id"])})


@router.post("/referrals/{referral_id}/assign")
async def assign(request: Request, referral_id: str) -> Response:
    form = await request.form()
    return await _step(request, "keyperson",
                       f"/api/v1/desk/board/referrals/{checked_id(referral_id)}/assign",
                       {"keyworker_id": str(form.get("keyworker_id", ""))[:36]}, "referrals")


@router.post("/referrals/{referral_id}/next")
async def offer_next(request: Request, referral_id: str) -> Response:
    return await _step(request, "keyperson",
                       f"/api/v1/desk/board/referrals/{checked_id(referral_id)}/next", None,
                       "referrals")
