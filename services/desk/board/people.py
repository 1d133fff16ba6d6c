"""`/desk/people`: find a person by name, phone, email, NHS number, date of birth or
reference (coordinators and admins; intake searches, normalises and audits).

The form is a POST answered with the results at once, not a GET: what was searched for is
personal, and a query string would put it in the address bar, the history and the logs
(desk URLs hold a reference at most)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from services.desk.board.pages import backend, coordinating, refused, render

router = APIRouter(prefix="/desk/people", include_in_schema=False)
KINDS = {"name": "Name", "phone": "Phone number", "email": "Email address",
         "nhs_number": "NHS number", "date_of_birth": "Date of birth", "reference": "Reference"}


def _page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    base: dict[str, Any] = {"kinds": KINDS, "by": "name", "q": "", "errors": [], "result": None}
    return render(request, "board/people.jinja", {**base, **context}, status)


@router.get("")
async def search_form(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    return _page(request, {})


@router.post("")
async def search(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    form = await request.form()
    by, q = str(form.get("by", "")), str(form.get("q", ""))[:200]
    if by not in KINDS:
        return _page(request, {"q": q, "errors": [("by", "Choose what to search by")]}, 422)
    if not q.strip():
        return _page(request, {"by": by, "errors": [("q", "Enter what to search for")]}, 422)
    answer = await backend(request).call(request, "GET", "intake",
                                         "/api/v1/desk/people/search?" + _query(by, q))
    if answer.status == 403:
        return refused(request)
    if answer.status == 422:
        errors = (answer.body or {}).get("errors") or [{}]
        message = str(errors[0].get("msg") or "Check what you entered")
        return _page(request, {"by": by, "q": q,
                               "errors": [("q", message[:1].upper() + message[1:])]}, 422)
    if not answer.ok:
        raise HTTPException(400)
    return _page(request, {"by": by, "q": q, "result": answer.body})


def _query(by: str, q: str) -> str:
    return urlencode({"by": by, "q": q})
