"""`/desk/outreach`: the people to visit per locality (coordinators and admins): those whose
referral closed "not reached", or with 3 attempts and none answered. A visit is given to a
key worker and its outcome recorded with plain forms (POST → 303 → the list); referral keeps
both, and the person's page shows them with their story."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.desk.board.pages import backend, checked_id, coordinating, refused, render
from services.desk.board.views import LOCALITIES

router = APIRouter(prefix="/desk/outreach", include_in_schema=False)
REFERENCE = re.compile(r"^[0-9A-Za-z-]{1,20}$")
WHY = {"not_reached": "Closed: could not be reached",
       "unanswered": "3 attempts, none answered"}


async def _workers(request: Request) -> dict[str, str]:
    """Active key workers' names by id, from keyperson's board."""
    answer = await backend(request).call(request, "GET", "keyperson", "/api/v1/desk/board")
    if answer.status == 403:
        raise PermissionError
    if not answer.ok:
        raise HTTPException(400)
    workers: dict[str, str] = (answer.body or {}).get("workers") or {}
    return workers


@router.get("")
async def outreach_list(request: Request, locality: str = "") -> Response:
    if not coordinating(request):
        return refused(request)
    place = locality if locality in LOCALITIES else ""
    path = "/api/v1/desk/outreach" + (f"?locality={quote(place)}" if place else "")
    answer = await backend(request).call(request, "GET", "referral", path)
    if answer.status == 403:
        return refused(request)
    if not answer.ok:
        raise HTTPException(400)
    try:
        workers = await _workers(request)
    except PermissionError:
        return refused(request)
    return render(request, "board/outreach.jinja", {
        "found": answer.body, "workers": workers, "why_words": WHY, "place": place,
        "locality_words": LOCALITIES})


def _problem(request: Request, message: str, status: int) -> Response:
    return render(request, "board/problem.jinja", {"message": message, "back": "/desk/outreach",
                                                   "back_words": "Back to outreach"}, status)


async def _step(request: Request, path: str, payload: dict[str, Any], anchor: str) -> Response:
    answer = await backend(request).call(request, "POST", "referral", path, payload)
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status == 422:
        return _problem(request, "Choose one of the options, then try again.", 422)
    if answer.status == 409:
        detail = (answer.body or {}).get("detail") or "This has changed meanwhile."
        return _problem(request, str(detail), 409)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/outreach#{anchor}", status_code=303)


@router.post("/{reference}/visits")
async def give_visit(request: Request, reference: str) -> Response:
    if not coordinating(request):
        return refused(request)
    if not REFERENCE.match(reference):
        raise HTTPException(404)
    chosen = str((await request.form()).get("keyworker_id", ""))[:36]
    try:
        workers = await _workers(request)
    except PermissionError:
        return refused(request)
    if chosen not in workers:  # referral keeps ids only: the roster is keyperson's
        return _problem(request, "Choose a key worker on the roster, then try again.", 422)
    return await _step(request, f"/api/v1/desk/outreach/{reference}/visits",
                       {"keyworker_id": chosen}, f"o-{reference}")


@router.post("/visits/{visit_id}/outcome")
async def visit_outcome(request: Request, visit_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    checked_id(visit_id)
    form = await request.form()
    payload = {"outcome": str(form.get("outcome", ""))[:40],
               "note": str(form.get("note", ""))[:2000]}
    return await _step(request, f"/api/v1/desk/outreach/visits/{visit_id}/outcome", payload,
                       "outreach")
