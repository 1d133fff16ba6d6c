"""`/desk/rota`: the duty rota as a week (coordinators and admins): each day's shifts with
who and when, the week's gaps per role and locality, a shift added with a form and removed
with a button (keyperson applies the staff API's rules; its 422 is shown on the field)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.desk.board.pages import (
    backend,
    checked_id,
    coordinating,
    form_errors,
    refused,
    render,
)
from services.desk.board.views import LOCALITIES, ROLES

router = APIRouter(prefix="/desk/rota", include_in_schema=False)
FIELDS = ("keyworker_id", "role", "locality", "starts_at", "ends_at")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def _week(request: Request, first: date | None) -> dict[str, Any]:
    path = "/api/v1/desk/rota" + (f"?from={first.isoformat()}" if first else "")
    answer = await backend(request).call(request, "GET", "keyperson", path)
    if answer.status == 403:
        raise PermissionError
    if not answer.ok:
        raise HTTPException(400)
    body: dict[str, Any] = answer.body
    start = date.fromisoformat(body["starts"])
    days = []
    for n in range(7):
        day = start + timedelta(days=n)
        days.append({"date": day, "shifts": [s for s in body["shifts"] if _on(s, day)],
                     "gaps": [g for g in body["gaps"] if _on(g, day)]})
    return {"week": body, "days": days, "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7), "role_words": ROLES,
            "locality_words": LOCALITIES}


def _on(item: dict[str, Any], day: date) -> bool:
    """Whether a shift or gap (London wall times) touches `day`."""
    starts = datetime.fromisoformat(item["starts_local"]).date()
    ends = datetime.fromisoformat(item["ends_local"])
    last = (ends - timedelta(microseconds=1)).date()
    return starts <= day <= last


async def _page(request: Request, first: date | None, form: dict[str, str],
                errors: list[tuple[str, str]], status: int = 200) -> Response:
    try:
        context = await _week(request, first)
    except PermissionError:
        return refused(request)
    return render(request, "board/rota.jinja", {**context, "form": form, "errors": errors},
                  status)


@router.get("")
async def week(request: Request, week: str = "") -> Response:
    if not coordinating(request):
        return refused(request)
    return await _page(request, _day(week), {}, [])


@router.post("/shifts")
async def add(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    raw = await request.form()
    form = {f: str(raw.get(f, ""))[:40] for f in (*FIELDS, "week")}
    payload: dict[str, Any] = {f: form[f] for f in FIELDS}
    payload["locality"] = payload["locality"] or None
    answer = await backend(request).call(request, "POST", "keyperson", "/api/v1/desk/rota/shifts",
                                         payload)
    if answer.status == 403:
        return refused(request)
    if answer.status == 422:
        errors = form_errors(answer.body, FIELDS, "ends_at")  # a rule of two fields: the end
        return await _page(request, _day(form["week"]), form, errors, 422)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/rota?week={form['week']}#days", status_code=303)



@router.post("/shifts/{shift_id}/remove")
async def remove(request: Request, shift_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    checked_id(shift_id)
    raw = await request.form()
    week = _day(str(raw.get("week", "")))
    answer = await backend(request).call(request, "DELETE", "keyperson",
                                         f"/api/v1/desk/rota/shifts/{shift_id}")
    if answer.status == 403:
        return refused(request)
    if answer.status not in (204, 404):  # already gone: the week shows it gone
        raise HTTPException(400)
    return RedirectResponse(f"/desk/rota?week={week.isoformat() if week else ''}#days",
                            status_code=303)
