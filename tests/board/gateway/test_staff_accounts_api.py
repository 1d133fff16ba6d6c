"""The gateway's accounts API behind the desk's staff page: admins only (decided from the
gateway's own table, whatever the headers say), every change audited with who and when,
inviting the CLI's way (the link shown once, and written to the dry-run mail), disabling ending
sessions at once, and nobody disabling themselves or removing the last admin."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, select

from gateway.identity.models import StaffAccount, StaffInvitation, StaffPasskey, StaffSession
from gateway.models import AuditEntry
from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN, H_PERSON_ID, H_PERSON_ROLE
from tests.gateway.conftest import GatewayHarness
from tests.gateway.test_identity import enrol, invite, state

API = "/internal/identity/accounts"


@pytest.fixture(autouse=True)
async def no_accounts_yet(gw: GatewayHarness) -> None:
    """The database lives for the whole test session: "the last admin" means this test's."""
    async with state(gw).db.sessionmaker() as session, session.begin():
        for table in (StaffSession, StaffPasskey, StaffInvitation, StaffAccount):
            await session.execute(delete(table))


async def account_id(gw: GatewayHarness, email: str) -> str:
    async with state(gw).db.sessionmaker() as session:
        found = await session.scalar(select(StaffAccount.id).where(StaffAccount.email == email))
    assert found
    return str(found)


async def as_person(gw: GatewayHarness, email: str, role: str) -> dict[str, str]:
    """The headers the desk sends for a signed-in person (the account made if need be)."""
    await invite(gw, email, role=role, keyworker_id="kw-1" if role == "key_worker" else None)
    return {H_INTERNAL_TOKEN: gw.settings.internal_secret, H_ACTOR_KIND: "person",
            H_PERSON_ID: await account_id(gw, email), H_PERSON_ROLE: role}


async def audits(gw: GatewayHarness, entity_id: str) -> list[tuple[str, str | None]]:
    async with state(gw).db.sessionmaker() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.entity_id == entity_id)
                                     .order_by(AuditEntry.id))
        return [(r.action, r.actor_id) for r in rows]


async def test_an_admin_invites_as_the_cli_does_and_the_link_is_sent_once(
    gw: GatewayHarness,
) -> None:
    admin = await as_person(gw, "ada@example.org", "admin")
    resp = await gw.client.post(API, headers=admin, json={
        "email": "Kim@Example.org", "role": "key_worker", "keyworker_id": "kw-7", "name": "Kim"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["url"].startswith("https://line.example.org/desk/invite/")
    sent = [json.loads(line) for line in
            (gw.settings.var_dir / "dry-run" / "email.jsonl").read_text().splitlines()]
    assert sent[-1]["kind"] == "staff_invitation" and sent[-1]["url"] == body["url"]
    assert sent[-1]["to"] == "kim@example.org"
    assert await audits(gw, body["id"]) == [("invite", admin[H_PERSON_ID])]
    page = await gw.client.get(body["url"].removeprefix("https://line.example.org"))
    assert page.status_code == 200
    listed = (await gw.client.get(API, headers=admin)).json()
    kim = next(a for a in listed["accounts"] if a["email"] == "kim@example.org")
    assert (kim["name"], kim["role"], kim["keyworker_id"], kim["status"], kim["last_sign_in"]) \
        == ("Kim", "key_worker", "kw-7", "invited", None)
    assert listed["you"] == admin[H_PERSON_ID]


async def test_bad_invitations_name_the_field_and_change_nothing(gw: GatewayHarness) -> None:
    admin = await as_person(gw, "ada@example.org", "admin")
    for payload, field in (({"email": "not an email", "role": "coordinator"}, "email"),
                           ({"email": "a@example.org", "role": "boss"}, "role"),
                           ({"email": "b@example.org", "role": "key_worker"}, "keyworker_id")):
        resp = await gw.client.post(API, headers=admin, json=payload)
        assert resp.status_code == 422, payload
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["errors"][0]["loc"][-1] == field
    listed = (await gw.client.get(API, headers=admin)).json()["accounts"]
    assert [a["email"] for a in listed] == ["ada@example.org"]


async def test_disabling_ends_their_sessions_at_once_and_is_audited(gw: GatewayHarness) -> None:
    admin = await as_person(gw, "ada@example.org", "admin")
    await enrol(gw, "sam@example.org")  # signed in on gw.client
    assert (await gw.client.get("/desk/")).status_code == 200
    sam = await account_id(gw, "sam@example.org")
    listed = (await gw.client.get(API, headers=admin)).json()["accounts"]
    row = next(a for a in listed if a["id"] == sam)
    assert row["status"] == "active" and row["last_sign_in"] and row["live_sessions"] == 1
    resp = await gw.client.post(f"{API}/{sam}/disable", headers=admin)
    assert resp.status_code == 200, resp.text
    assert (await gw.client.get("/desk/")).status_code == 303
    assert ("disable", admin[H_PERSON_ID]) in await audits(gw, sam)
    assert (await gw.client.post(f"{API}/nobody/disable", headers=admin)).status_code == 404


async def test_an_admin_cannot_disable_themselves_or_remove_the_last_admin(
    gw: GatewayHarness,
) -> None:
    admin = await as_person(gw, "ada@example.org", "admin")
    me = admin[H_PERSON_ID]
    own = await gw.client.post(f"{API}/{me}/disable", headers=admin)
    assert own.status_code == 409
    demote = await gw.client.post(f"{API}/{me}/role", headers=admin, json={"role": "coordinator"})
    assert demote.status_code == 409
    second = await as_person(gw, "bo@example.org", "admin")
    # Bo may take Ada's admin role while both are admins; then Ada is the only one left to
    # keep Bo's, so Bo's cannot be removed by Ada.
    resp = await gw.client.post(f"{API}/{me}/role", headers=second, json={"role": "coordinator"})
    assert resp.status_code == 200, resp.text
    assert ("role:coordinator", second[H_PERSON_ID]) in await audits(gw, me)
    assert (await gw.client.get(API, headers=admin)).status_code == 403  # no longer an admin
    bo = second[H_PERSON_ID]
    assert (await gw.client.post(f"{API}/{bo}/disable", headers=second)).status_code == 409
    async with state(gw).db.sessionmaker() as session:
        roles = dict((await session.execute(select(StaffAccount.email, StaffAccount.role))).all())
    assert roles == {"ada@example.org": "coordinator", "bo@example.org": "admin"}


async def test_a_role_change_applies_from_their_next_request(gw: GatewayHarness) -> None:
    admin = await as_person(gw, "ada@example.org", "admin")
    await enrol(gw, "sam@example.org")
    sam = await account_id(gw, "sam@example.org")
    bad = await gw.client.post(f"{API}/{sam}/role", headers=admin, json={"role": "key_worker"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["keyworker_id"]
    resp = await gw.client.post(f"{API}/{sam}/role", headers=admin, json={"role": "coordinator"})
    assert resp.status_code == 200
    await gw.client.get("/desk/")
    forwarded = [s for s in gw.upstream.seen if s["path"] == "/desk/"][-1]["headers"]
    assert forwarded[H_PERSON_ROLE] == "coordinator"


async def test_only_an_admin_signed_in_through_the_desk_may_use_it(gw: GatewayHarness) -> None:
    coordinator = await as_person(gw, "cy@example.org", "coordinator")
    key_worker = await as_person(gw, "kay@example.org", "key_worker")
    admin = await as_person(gw, "ada@example.org", "admin")
    claims_admin = {**coordinator, H_PERSON_ROLE: "admin"}  # the gateway reads its own table
    no_token = {k: v for k, v in admin.items() if k != H_INTERNAL_TOKEN}
    wrong_token = {**admin, H_INTERNAL_TOKEN: "guess"}
    target = key_worker[H_PERSON_ID]
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", API, None), ("POST", API, {"email": "x@example.org", "role": "admin"}),
        ("POST", f"{API}/{target}/disable", None),
        ("POST", f"{API}/{target}/role", {"role": "admin"})]
    for headers in (coordinator, key_worker, claims_admin, no_token, wrong_token):
        for method, path, payload in calls:
            resp = await gw.client.request(method, path, headers=headers, json=payload)
            assert resp.status_code == 403, (headers.get(H_PERSON_ROLE), path)
            assert resp.headers["content-type"] == "application/problem+json"
    listed = (await gw.client.get(API, headers=admin)).json()["accounts"]
    assert {a["email"]: a["role"] for a in listed}["kay@example.org"] == "key_worker"
    assert len(listed) == 3
