"""`/desk/staff`: staff accounts, for admins: everyone who signs in (name, email, role, linked
key worker, status, last sign-in), **Invite someone** (the link shown once, here, and sent as
`livewell staff invite` sends it), and each account's page to change its role or disable it
(their sessions end at once).

The gateway owns accounts and decides who may (`/internal/identity/accounts`, admins only,
checked against its own table, every change audited); this page only asks it. Coordinators
and key workers get a 403 page before it is asked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.common.context import H_PERSON_ROLE
from services.desk.board.pages import backend, checked_id, form_errors, render

router = APIRouter(prefix="/desk/staff", include_in_schema=False)
API = "/internal/identity/accounts"
ROLES = {"key_worker": "Key worker", "coordinator": "Coordinator", "admin": "Admin"}
STATUSES = {"invited": "Invited, not signed in yet", "active": "Active",
            "disabled": "Disabled"}
FIELDS = ("name", "email", "role", "keyworker_id")


def admin(request: Request) -> bool:
    return request.headers.get(H_PERSON_ROLE, "") == "admin"


def refused(request: Request) -> Response:
    return render(request, "board/staff_403.jinja", {}, status=403)



async def _keyworkers(request: Request) -> dict[str, str]:
    """Key workers on keyperson's roster by id, to link an account to (active first)."""
    answer = await backend(request).call(request, "GET", "keyperson", "/api/v1/desk/keyworkers")
    if not answer.ok:
        return {}
    workers = sorted(answer.body.get("workers", []), key=lambda w: (not w["active"], w["name"]))
    return {w["id"]: w["name"] + ("" if w["active"] else " (off the roster)") for w in workers}



async def _accounts(request: Request) -> dict[str, Any] | None:
    answer = await backend(request).call(request, "GET", "gateway", API)
    if answer.status == 403:
        return None
    if not answer.ok:
        raise HTTPException(400)
    body: dict[str, Any] = answer.body
    return body


async def _list(request: Request, form: dict[str, str], errors: list[tuple[str, str]],
                status: int = 200) -> Response:
    found = await _accounts(request)
    if found is None:
        return refused(request)
    return render(request, "board/staff.jinja", {
        "accounts": found["accounts"], "you": found["you"], "form": form, "errors": errors,
        "keyworkers": await _keyworkers(request), "roles": ROLES, "statuses": STATUSES},
        status)


@router.get("")
async def accounts_page(request: Request) -> Response:
    if not admin(request):
        return refused(request)
    return await _list(request, {"role": "key_worker"}, [])


@router.post("")
async def invite(request: Request) -> Response:
    """Invite someone: the answer is the page showing their link, once (not a redirect: the
    link is not kept anywhere to show again)."""
    if not admin(request):
        return refused(request)
    raw = await request.form()
    form = {f: str(raw.get(f, ""))[:320].strip() for f in FIELDS}
    answer = await backend(request).call(request, "POST", "gateway", API, {
        "email": form["email"], "role": form["role"], "name": form["name"] or None,
        "keyworker_id": form["keyworker_id"] or None})
    if answer.status == 403:
        return refused(request)
    if answer.status in (409, 422):
        return await _list(request, form, form_errors(answer.body, ("name", "email", "role",
                                                           "keyworker_id")), answer.status)
    if not answer.ok:
        raise HTTPException(400)
    return render(request, "board/staff_invited.jinja", {"sent": answer.body, "roles": ROLES,
                                                         "name": form["name"]})


async def _one(request: Request, account_id: str, errors: list[tuple[str, str]],
               status: int = 200, form: dict[str, str] | None = None) -> Response:
    found = await _accounts(request)
    if found is None:
        return refused(request)
    account = next((a for a in found["accounts"] if a["id"] == account_id), None)
    if account is None:
        raise HTTPException(404)
    shown = form or {"role": account["role"], "keyworker_id": account["keyworker_id"] or ""}
    return render(request, "board/staff_account.jinja", {
        "a": account, "you": found["you"], "form": shown, "errors": errors,
        "keyworkers": await _keyworkers(request), "roles": ROLES, "statuses": STATUSES},
        status)


@router.get("/{account_id}")
async def account_page(request: Request, account_id: str) -> Response:
    if not admin(request):
        return refused(request)
    return await _one(request, checked_id(account_id), [])


@router.post("/{account_id}/role")
async def change_role(request: Request, account_id: str) -> Response:
    if not admin(request):
        return refused(request)
    aid = checked_id(account_id)
    raw = await request.form()
    form = {f: str(raw.get(f, ""))[:40] for f in ("role", "keyworker_id")}
    answer = await backend(request).call(request, "POST", "gateway", f"{API}/{aid}/role", {
        "role": form["role"], "keyworker_id": form["keyworker_id"] or None})
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status in (409, 422):
        return await _one(request, aid, form_errors(answer.body, ("keyworker_id", "role")),
                          answer.status, form)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/staff/{aid}#saved", status_code=303)


@router.post("/{account_id}/disable")
async def disable(request: Request, account_id: str) -> Response:
    """Disable the account; their sessions end at once."""
    if not admin(request):
        return refused(request)
    aid = checked_id(account_id)
    answer = await backend(request).call(request, "POST", "gateway", f"{API}/{aid}/disable")
    if answer.status == 403:
        return refused(request)
    if answer.status == 404:
        raise HTTPException(404)
    if answer.status == 409:
        return await _one(request, aid, [("disable", str(answer.body.get("detail")))], 409)
    if not answer.ok:
        raise HTTPException(400)
    return RedirectResponse(f"/desk/staff/{aid}#saved", status_code=303)
