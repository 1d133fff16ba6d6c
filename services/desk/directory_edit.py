"""`/desk/directory`: coordinators and admins keep the network directory (list with search,
view, add, edit, remove a service) through referral's edit API, each action a plain form
(POST → redirect → GET) with the session's CSRF token. Referral checks the role again and the
document against the Open Referral UK schema; its 422 lands on the form's field."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.desk.backend import Answer
from services.desk.board.pages import backend, coordinating, refused, render
from services.desk.directory_form import Form, document, errors_of, form_of

router = APIRouter(prefix="/desk/directory", include_in_schema=False)
ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
# Where referral's schema check points (`["body", <key>, …]`) → the form's field.
SCHEMA_FIELDS = {"name": "name", "description": "description", "organization": "organization",
                 "email": "email", "url": "url", "contacts": "phone", "schedules": "hours",
                 "languages": "languages", "service_areas": "areas", "attributes": "needs",
                 "service_at_locations": "postcode"}


def _id(value: str) -> str:
    if not ID.match(value):
        raise HTTPException(404)
    return value


def _checked(answer: Answer) -> Any:
    if answer.status == 403:
        raise PermissionError
    if answer.status == 404:
        raise HTTPException(404)
    if not answer.ok:
        raise HTTPException(400)
    return answer.body


async def _services(request: Request) -> list[dict[str, Any]]:
    """Every service, inactive ones too (the open listing shows active ones only)."""
    body = _checked(await backend(request).call(request, "GET", "referral",
                                                "/api/v1/directory/export"))
    return sorted(body.get("services") or [], key=lambda s: str(s.get("name", "")).lower())


async def _terms(request: Request) -> dict[str, str]:
    """Every taxonomy term a service can be tagged with: id → name."""
    terms: dict[str, str] = {}
    page = 1
    while True:
        body = _checked(await backend(request).call(
            request, "GET", "referral", f"/openreferral/taxonomy_terms?per_page=100&page={page}"))
        terms.update({t["id"]: str(t.get("name") or t.get("term") or t["id"])
                      for t in body["contents"]})
        if body["last_page"] or body["empty"]:
            return terms
        page += 1


async def _service(request: Request, service_id: str) -> dict[str, Any]:
    found: dict[str, Any] = _checked(await backend(request).call(
        request, "GET", "referral", f"/openreferral/services/{_id(service_id)}"))
    return found


def _matches(service: dict[str, Any], text: str) -> bool:
    haystack = " ".join(str(x) for x in (service.get("name"), service.get("description"),
                                         (service.get("organization") or {}).get("name")))
    return text.lower() in haystack.lower()


@router.get("")
async def listing(request: Request, q: str = "") -> Response:
    if not coordinating(request):
        return refused(request)
    q = q.strip()[:100]
    try:
        found = [s for s in await _services(request) if not q or _matches(s, q)]
    except PermissionError:
        return refused(request)
    return render(request, "directory/list.jinja", {
        "services": found, "q": q, "done": request.query_params.get("done", "")[:40]})


@router.get("/new")
async def new(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    return await _form_page(request, None, Form({}), [])


@router.get("/{service_id}")
async def view(request: Request, service_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    try:
        doc = await _service(request, service_id)
        terms = await _terms(request)
    except PermissionError:
        return refused(request)
    return render(request, "directory/view.jinja", {
        "s": doc, "f": form_of(doc),
        "need_names": [terms.get(t, t) for t in form_of(doc).needs],
        "done": request.query_params.get("done", "")[:40]})


@router.get("/{service_id}/edit")
async def edit(request: Request, service_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    try:
        doc = await _service(request, service_id)
    except PermissionError:
        return refused(request)
    return await _form_page(request, doc, form_of(doc), [])


async def _form_page(request: Request, doc: dict[str, Any] | None, form: Form,
                     errors: list[tuple[str, str]], status: int = 200) -> Response:
    try:
        terms = await _terms(request)
    except PermissionError:
        return refused(request)
    return render(request, "directory/form.jinja", {
        "s": doc, "f": form, "terms": terms, "errors": errors}, status)


@router.post("/new")
async def add(request: Request) -> Response:
    return await _save(request, None)


@router.post("/{service_id}/edit")
async def change(request: Request, service_id: str) -> Response:
    return await _save(request, _id(service_id))


async def _save(request: Request, service_id: str | None) -> Response:
    if not coordinating(request):
        return refused(request)
    form = Form.posted(await request.form())
    try:
        old = await _service(request, service_id) if service_id else None
        errors = errors_of(form, await _terms(request))
        if errors:
            return await _form_page(request, old, form, errors, 422)
        name = form.values["organization"]
        org = next((s["organization"] for s in await _services(request)
                    if (s.get("organization") or {}).get("name") == name), None)
        doc = document(form, old, org)
        answer = await backend(request).call(request, "PUT", "referral",
                                             f"/api/v1/directory/services/{doc['id']}", doc)
        if answer.status == 422:
            return await _form_page(request, old, form, _problems(answer.body), 422)
        _checked(answer)
    except PermissionError:
        return refused(request)
    done = "changed" if old else "added"
    return RedirectResponse(f"/desk/directory/{doc['id']}?{urlencode({'done': done})}",
                            status_code=303)


def _problems(body: Any) -> list[tuple[str, str]]:
    """Referral's schema refusal, each on the form field that holds the part it names."""
    out: list[tuple[str, str]] = []
    for e in (body or {}).get("errors") or [{}]:
        loc = [str(part) for part in e.get("loc") or []]
        field = next((SCHEMA_FIELDS[p] for p in loc if p in SCHEMA_FIELDS), "name")
        out.append((field, f"Check this field: {e.get('msg') or 'it was not accepted'}"[:200]))
    return out


@router.post("/{service_id}/remove")
async def remove(request: Request, service_id: str) -> Response:
    if not coordinating(request):
        return refused(request)
    answer = await backend(request).call(request, "DELETE", "referral",
                                         f"/api/v1/directory/services/{_id(service_id)}")
    if answer.status == 403:
        return refused(request)
    if answer.status not in (204, 404):  # already gone: the list shows it gone
        raise HTTPException(400)
    return RedirectResponse("/desk/directory?done=removed", status_code=303)
