"""The desk's staff accounts pages in-process, with the gateway and keyperson stood in for:
the list (role, key worker by name, status, last sign-in), an invitation's link shown once,
the gateway's refusals on their fields, a role changed and an account disabled, and a
coordinator or key worker refused (403) before the gateway is asked."""

from __future__ import annotations

from typing import Any

from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401

ADMIN = signed_in("admin", "acct-ada")
API = "/internal/identity/accounts"
ACCOUNTS = {"you": "acct-ada", "accounts": [
    {"id": "acct-ada", "name": "Ada", "email": "ada@hub.example", "role": "admin",
     "keyworker_id": None, "status": "active", "live_sessions": 1,
     "last_sign_in": "2026-11-30T09:05:00+00:00", "created_at": "2026-11-01T09:00:00+00:00",
     "disabled_at": None},
    {"id": "acct-sam", "name": "Sam", "email": "sam@hub.example", "role": "key_worker",
     "keyworker_id": "kw-1", "status": "invited", "live_sessions": 0, "last_sign_in": None,
     "created_at": "2026-11-02T09:00:00+00:00", "disabled_at": None}]}
ROSTER = {"workers": [{"id": "kw-1", "name": "Sam Worker", "active": True},
                      {"id": "kw-2", "name": "Bo Gone", "active": False}]}


def answers(services: Any) -> None:
    services.answers[("GET", "gateway", API)] = Answer(200, ACCOUNTS)
    services.answers[("GET", "keyperson", "/api/v1/desk/keyworkers")] = Answer(200, ROSTER)


async def test_the_list_and_an_accounts_page(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    page = await client.get("/desk/staff", headers=ADMIN)
    assert page.status_code == 200, page.text
    assert '<a href="/desk/staff/acct-sam">Sam</a>' in page.text
    assert "Sam Worker" in page.text and "Invited, not signed in yet" in page.text
    assert "30 Nov 2026" in page.text or "30 November" in page.text  # last sign-in, London
    assert "Never" in page.text and "(you)" in page.text
    assert '<option value="kw-2">Bo Gone (off the roster)</option>' in page.text
    assert 'name="csrf_token" value="csrf-1"' in page.text
    mine = await client.get("/desk/staff/acct-ada", headers=ADMIN)
    assert "This is your account" in mine.text and "/disable" not in mine.text
    sam = await client.get("/desk/staff/acct-sam", headers=ADMIN)
    assert 'action="/desk/staff/acct-sam/disable"' in sam.text
    assert '<option value="kw-1" selected>Sam Worker</option>' in sam.text
    assert (await client.get("/desk/staff/acct-404", headers=ADMIN)).status_code == 404


async def test_an_invitation_shows_its_link_once_and_refusals_land_on_their_field(
    desk: Any,  # noqa: F811
) -> None:
    client, services, _ = desk
    answers(services)
    url = "https://line.example.org/desk/invite/tok-123"
    services.answers[("POST", "gateway", API)] = Answer(201, {
        "id": "acct-kim", "email": "kim@hub.example", "role": "coordinator", "url": url,
        "expires_at": "2026-12-03T09:00:00+00:00"})
    sent = await client.post("/desk/staff", headers=ADMIN, data={
        "name": " Kim ", "email": "kim@hub.example", "role": "coordinator", "keyworker_id": ""})
    assert sent.status_code == 200, sent.text
    assert f'id="invitation-link" class="nhsuk-u-font-size-16">{url}</a>' in sent.text
    assert services.calls[-1][:3] == ("POST", "gateway", API)
    assert services.calls[-1][3] == {"email": "kim@hub.example", "role": "coordinator",
                                     "name": "Kim", "keyworker_id": None}
    assert url not in (await client.get("/desk/staff", headers=ADMIN)).text
    services.answers[("POST", "gateway", API)] = Answer(422, {
        "detail": "no", "errors": [{"loc": ["keyworker_id"],
                                    "msg": "Choose the key worker this account is for"}]})
    refused = await client.post("/desk/staff", headers=ADMIN, data={
        "name": "Lee", "email": "lee@hub.example", "role": "key_worker"})
    assert refused.status_code == 422
    assert "<title>Error: Staff accounts" in refused.text
    assert 'id="keyworker_id-error"' in refused.text and 'value="lee@hub.example"' in refused.text
    assert 'value="key_worker" checked' in refused.text


async def test_a_role_change_and_disabling_go_to_the_gateway(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    changed = await client.post("/desk/staff/acct-sam/role", headers=ADMIN,
                                data={"role": "coordinator", "keyworker_id": ""})
    assert changed.status_code == 303, changed.text
    assert services.calls[-1] == ("POST", "gateway", f"{API}/acct-sam/role",
                                  {"role": "coordinator", "keyworker_id": None})
    done = await client.post("/desk/staff/acct-sam/disable", headers=ADMIN)
    assert done.status_code == 303 and done.headers["location"] == "/desk/staff/acct-sam#saved"
    services.answers[("POST", "gateway", f"{API}/acct-sam/disable")] = Answer(409, {
        "detail": "This is the last admin: make someone else an admin first.",
        "errors": [{"loc": ["account"], "msg": "This is the last admin: make someone else "
                                               "an admin first."}]})
    last = await client.post("/desk/staff/acct-sam/disable", headers=ADMIN)
    assert last.status_code == 409
    assert "This is the last admin" in last.text and 'href="#disable"' in last.text


async def test_coordinators_and_key_workers_are_refused_before_the_gateway_is_asked(
    desk: Any,  # noqa: F811
) -> None:
    client, services, _ = desk
    answers(services)
    for who in (signed_in("coordinator"), signed_in("key_worker", keyworker_id="kw-1")):
        for method, path in (("GET", "/desk/staff"), ("POST", "/desk/staff"),
                             ("GET", "/desk/staff/acct-sam"),
                             ("POST", "/desk/staff/acct-sam/role"),
                             ("POST", "/desk/staff/acct-sam/disable")):
            resp = await client.request(method, path, headers=who)
            assert resp.status_code == 403, (who, path)
            assert "This page is for admins" in resp.text
    assert services.calls == []
    services.answers[("GET", "gateway", API)] = Answer(403, {"detail": "admins"})
    # A role changed since the page's headers were set: the gateway's own refusal shows too.
    assert (await client.get("/desk/staff", headers=ADMIN)).status_code == 403
