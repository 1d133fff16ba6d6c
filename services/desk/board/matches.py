"""`/desk/matches`: people intake flagged as possibly the same person (coordinators and
admins), side by side, each to merge into the record to keep or to dismiss as different
people, with plain forms (POST → 303 → the list). Intake applies the rules and audits."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.desk.board.pages import backend, checked_id, coordinating, refused, render

router = APIRouter(prefix="/desk/matches", include_in_schema=False)
REASONS = {"same_name_and_date_of_birth": "Same name and date of birth",
           "different_nhs_number": "Different NHS numbers"}


@router.get("")
async def matches(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    answer = await backend(request).call(request, "GET", "intake", "/api/v1/desk/matches")
    if answer.status == 403:
        return refused(request)
    if not answer.ok:
        raise HTTPException(400)
    found = answer.body
    for m in found["matches"]:
        m["reason_words"] = "; ".join(
            REASONS.get(r, r.replace("_", " ").capitalize()) for r in m["reasons"])
    return render(request, "board/matches.jinja", {"found": found})


async def _step(request: Request, path: str, payload: dict[str, str] | None) -> Response:
    answer = await backend(request).call(request, "POST", "intake", path, payload)
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status in (409, 422):
        message = ("Choose which record to keep, then try again." if answer.status == 422
                   else str((answer.body or {}).get("detail") or "This has changed meanwhile."))
        return render(request, "board/problem.jinja", {
            "message": message, "back": "/desk/matches", "back_words": "Back to possible matches"},
            answer.status)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse("/desk/matches#matches", status_code=303)


@router.post("/{match_id}/merge")
async def merge(request: Request, match_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    checked_id(match_id)
    keep = str((await request.form()).get("keep", ""))[:36]
    return await _step(request, f"/api/v1/desk/matches/{match_id}/merge", {"keep": keep})


@router.post("/{match_id}/dismiss")
async def dismiss(request: Request, match_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    checked_id(match_id)
    return await _step(request, f"/api/v1/desk/matches/{match_id}/dismiss", None)
