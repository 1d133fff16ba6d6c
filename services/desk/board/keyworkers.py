"""`/desk/keyworkers`: the key worker roster (coordinators and admins): everyone with their
caseload and absences, **Add a key worker**, and each worker's page to edit them (localities,
teams, skills, maximum caseload), add or cancel an absence, or take them off the roster.
Keyperson answers with the staff API's own handlers (`/api/v1/desk/keyworkers`); its
refusals are shown on their fields."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from services.desk.board.pages import (
    backend,
    checked_id,
    coordinating,
    form_errors,
    refused,
    render,
)
from services.desk.board.views import LOCALITIES

router = APIRouter(prefix="/desk/keyworkers", include_in_schema=False)
API = "/api/v1/desk/keyworkers"
WORKER_FIELDS = ("name", "phone", "email", "localities", "teams", "skills", "max_caseload")
ABSENCE_FIELDS = ("kind", "starts_at", "ends_at")
ABSENCES = {"leave": "Leave", "sickness": "Sickness", "training": "Training", "other": "Other"}



async def _roster(request: Request) -> dict[str, Any]:
    answer = await backend(request).call(request, "GET", "keyperson", API)
    if answer.status == 403:
        raise PermissionError
    if not answer.ok:
        raise HTTPException(400)
    body: dict[str, Any] = answer.body
    return body


def _worker_form(raw: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (to show again) and the body keyperson is sent."""
    form: dict[str, Any] = {f: str(raw.get(f, ""))[:200] for f in
                            ("name", "phone", "email", "skills", "max_caseload")}
    form["localities"] = [str(v)[:80] for v in raw.getlist("localities")]
    form["teams"] = [str(v)[:80] for v in raw.getlist("teams")]
    body: dict[str, Any] = {
        "name": form["name"].strip(), "phone": form["phone"].strip(),
        "email": form["email"].strip() or None, "localities": form["localities"],
        "teams": form["teams"],
        "skills": [s.strip().lower() for s in form["skills"].split(",") if s.strip()],
        "max_caseload": form["max_caseload"].strip() or "20"}
    return form, body



async def _list(request: Request, form: dict[str, Any], errors: list[tuple[str, str]],
                status: int = 200) -> Response:
    try:
        roster = await _roster(request)
    except PermissionError:
        return refused(request)
    return render(request, "board/keyworkers.jinja", {
        "roster": roster, "form": form, "errors": errors, "locality_words": LOCALITIES},
        status)


@router.get("")
async def roster_page(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    return await _list(request, {"localities": [], "teams": [], "max_caseload": "20"}, [])


@router.post("")
async def add(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    form, body = _worker_form(await request.form())
    answer = await backend(request).call(request, "POST", "keyperson", API, body)
    if answer.status == 403:
        return refused(request)
    if answer.status in (409, 422):
        return await _list(request, form, form_errors(answer.body, WORKER_FIELDS), answer.status)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/keyworkers/{answer.body['id']}", status_code=303)


async def _one(request: Request, keyworker_id: str, form: dict[str, Any] | None,
               errors: list[tuple[str, str]], status: int = 200,
               absence: dict[str, str] | None = None) -> Response:
    try:
        roster = await _roster(request)
    except PermissionError:
        return refused(request)
    worker = next((w for w in roster["workers"] if w["id"] == keyworker_id), None)
    if worker is None:
        raise HTTPException(404)
    shown = form or {**worker, "skills": ", ".join(worker["skills"]), "email":
                     worker["email"] or "", "max_caseload": str(worker["max_caseload"])}
    return render(request, "board/keyworker.jinja", {
        "w": worker, "roster": roster, "form": shown, "errors": errors,
        "absence": absence or {}, "absence_kinds": ABSENCES, "locality_words": LOCALITIES},
        status)


@router.get("/{keyworker_id}")
async def worker_page(request: Request, keyworker_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    return await _one(request, checked_id(keyworker_id), None, [])


@router.post("/{keyworker_id}")
async def edit(request: Request, keyworker_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    wid = checked_id(keyworker_id)
    form, body = _worker_form(await request.form())
    answer = await backend(request).call(request, "PATCH", "keyperson", f"{API}/{wid}", body)
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status in (409, 422):
        errors = form_errors(answer.body, WORKER_FIELDS)
        return await _one(request, wid, form, errors, answer.status)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/keyworkers/{wid}#saved", status_code=303)


@router.post("/{keyworker_id}/active")
async def set_active(request: Request, keyworker_id: str) -> Response:
    """Take a worker off the roster (their open referrals move on) or back on."""
    if not coordinating(request):
        return refused(request)
    wid = checked_id(keyworker_id)
    active = str((await request.form()).get("active", "")) == "true"
    answer = await backend(request).call(request, "PATCH", "keyperson", f"{API}/{wid}",
                                         {"active": active})
    if answer.status == 403:
        return refused(request)
    if answer.status in (409, 422):
        return await _one(request, wid, None, form_errors(answer.body, ("phone",)), answer.status)
    if not answer.ok:
        raise HTTPException(404 if answer.status == 404 else 400)
    return RedirectResponse(f"/desk/keyworkers/{wid}", status_code=303)


@router.post("/{keyworker_id}/absences")
async def add_absence(request: Request, keyworker_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    wid = checked_id(keyworker_id)
    raw = await request.form()
    absence = {f: str(raw.get(f, ""))[:40] for f in ABSENCE_FIELDS}
    answer = await backend(request).call(request, "POST", "keyperson", f"{API}/{wid}/absences",
                                         absence)
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status == 422:
        errors = form_errors(answer.body, ABSENCE_FIELDS)
        return await _one(request, wid, None, errors, 422, absence)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/keyworkers/{wid}#absences", status_code=303)


@router.post("/{keyworker_id}/absences/{absence_id}/cancel")
async def cancel_absence(request: Request, keyworker_id: str, absence_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    wid, aid = checked_id(keyworker_id), checked_id(absence_id)
    answer = await backend(request).call(request, "DELETE", "keyperson",
                                         f"{API}/{wid}/absences/{aid}")
    if answer.status == 403:
        return refused(request)
    if answer.status not in (204, 404):  # already gone: the page shows it gone
        raise HTTPException(400)
    return RedirectResponse(f"/desk/keyworkers/{wid}#absences", status_code=303)
