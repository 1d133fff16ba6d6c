"""People who sign in: invitation, enrolment, sign-in, sessions, CSRF, lockout, disabling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.identity import accounts
from gateway.identity.pages import safe_next
from gateway.models import AuditEntry
from services.common.migrations import upgrade
from tests.conftest import make_settings
from tests.gateway.conftest import GatewayHarness, Upstream
from tests.support.twilio import free_port

BASE = "https://line.example.org"
PASSWORD = "correct horse battery"


@pytest.fixture
async def gw(database_url: str, tmp_path: Any) -> AsyncIterator[GatewayHarness]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        database_url, tmp_path, intake_url=base, referral_url=base, keyperson_url=base,
        notify_url=base, desk_url=base, public_base_url=BASE)
    upgrade(settings, "gateway")
    upstream = Upstream(port)
    await upstream.start()
    gateway = create_app(settings, GatewaySettings(key_cache_seconds=0.0))
    async with gateway.ops.router.lifespan_context(gateway.ops):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield GatewayHarness(gateway, client, upstream, settings)
    await upstream.stop()


def state(gw: GatewayHarness) -> Any:
    assert gw.gateway.state is not None
    return gw.gateway.state


def now(gw: GatewayHarness) -> datetime:
    result: datetime = state(gw).clock.now()
    return result


async def invite(gw: GatewayHarness, email: str, role: str = "key_worker",
                 keyworker_id: str | None = "kw-1") -> str:
    async with state(gw).db.sessionmaker() as session, session.begin():
        inv = await accounts.invite(session, email=email, role=role, keyworker_id=keyworker_id,
                                    name="Sam", now=now(gw), valid_hours=72)
    return inv.token


def desk_calls(gw: GatewayHarness) -> list[dict[str, Any]]:
    """What reached the desk (the roster checks to keyperson left out)."""
    return [s for s in gw.upstream.seen if s["path"].startswith("/desk")]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


async def enrol(gw: GatewayHarness, email: str, **kw: Any) -> str:
    """Accept an invitation as the invitee would; returns the TOTP secret."""
    token = await invite(gw, email, **kw)
    page = await gw.client.get(f"/desk/invite/{token}")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    totp_secret = secret.group(1).replace(" ", "")
    resp = await gw.client.post(f"/desk/invite/{token}", data={
        "csrf_token": csrf_of(page.text), "password": PASSWORD,
        "code": pyotp.TOTP(totp_secret).at(now(gw))})
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/desk/"
    return totp_secret


async def sign_in(gw: GatewayHarness, email: str, secret: str,
                  password: str = PASSWORD) -> httpx.Response:
    page = await gw.client.get("/desk/sign-in")
    state(gw).clock.advance(30)  # a new TOTP step: a code is never accepted twice
    return await gw.client.post("/desk/sign-in", data={
        "csrf_token": csrf_of(page.text), "email": email, "password": password,
        "code": pyotp.TOTP(secret).at(now(gw)), "next": "/desk/h/LW-ABC123"})


async def test_the_desk_without_a_session_redirects_to_sign_in_and_says_nothing(
    gw: GatewayHarness,
) -> None:
    resp = await gw.client.get("/desk/h/LW-ABC123")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/desk/sign-in?next=/desk/h/LW-ABC123"
    assert resp.content == b""
    assert (await gw.client.post("/desk/h/LW-ABC123/accept")).status_code == 303
    assert gw.upstream.seen == []


async def test_an_invitee_enrols_and_is_forwarded_as_a_person(gw: GatewayHarness) -> None:
    await enrol(gw, "Sam@Example.org")
    cookie = gw.client.cookies.get("lw_session")
    assert cookie
    resp = await gw.client.get("/desk/", headers={
        "X-Livewell-Person-Id": "forged", "X-Livewell-Keyworker-Id": "someone-else",
        "X-Livewell-Person-Role": "admin", "X-Livewell-Csrf": "forged"})
    assert resp.status_code == 200
    (seen,) = desk_calls(gw)
    h = seen["headers"]
    assert h["x-livewell-actor-kind"] == "person"
    assert h["x-livewell-person-role"] == "key_worker"
    assert h["x-livewell-keyworker-id"] == "kw-1"
    assert h["x-livewell-person-id"] != "forged"
    assert len(h["x-livewell-csrf"]) == 64


async def test_the_session_cookie_is_httponly_lax_and_secure_under_https(
    gw: GatewayHarness,
) -> None:
    token = await invite(gw, "a@example.org")
    page = await gw.client.get(f"/desk/invite/{token}")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    resp = await gw.client.post(f"/desk/invite/{token}", data={
        "csrf_token": csrf_of(page.text), "password": PASSWORD,
        "code": pyotp.TOTP(secret.group(1).replace(" ", "")).at(now(gw))})
    set_cookie = resp.headers["set-cookie"].lower()
    assert "lw_session=" in set_cookie
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "secure" in set_cookie


async def test_an_invitation_works_once(gw: GatewayHarness) -> None:
    token = await invite(gw, "once@example.org")
    page = await gw.client.get(f"/desk/invite/{token}")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    await gw.client.post(f"/desk/invite/{token}", data={
        "csrf_token": csrf_of(page.text), "password": PASSWORD,
        "code": pyotp.TOTP(secret.group(1).replace(" ", "")).at(now(gw))})
    again = await gw.client.get(f"/desk/invite/{token}")
    assert again.status_code == 404
    assert "Page not found" in again.text
    assert (await gw.client.get("/desk/invite/not-a-token")).status_code == 404


async def test_an_invitation_expires_after_72_hours(gw: GatewayHarness) -> None:
    token = await invite(gw, "late@example.org")
    state(gw).clock.advance(72 * 3600 + 1)
    assert (await gw.client.get(f"/desk/invite/{token}")).status_code == 404


async def test_enrolment_refuses_a_short_password_and_a_wrong_code_naming_the_field(
    gw: GatewayHarness,
) -> None:
    token = await invite(gw, "b@example.org")
    page = await gw.client.get(f"/desk/invite/{token}")
    resp = await gw.client.post(f"/desk/invite/{token}", data={
        "csrf_token": csrf_of(page.text), "password": "short", "code": "123456"})
    assert resp.status_code == 422
    assert "<title>Error: Set up your sign-in" in resp.text
    assert 'href="#password"' in resp.text
    resp = await gw.client.post(f"/desk/invite/{token}", data={
        "csrf_token": csrf_of(page.text), "password": PASSWORD, "code": "000000"})
    assert resp.status_code == 422 and 'href="#code"' in resp.text
    assert (await gw.client.get(f"/desk/invite/{token}")).status_code == 200  # not used up


async def test_sign_in_with_password_and_code_returns_to_the_page_asked_for(
    gw: GatewayHarness,
) -> None:
    secret = await enrol(gw, "c@example.org")
    gw.client.cookies.clear()
    resp = await sign_in(gw, "c@example.org", secret)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/desk/h/LW-ABC123"
    assert (await gw.client.get("/desk/h/LW-ABC123")).status_code == 200


async def test_a_form_without_its_csrf_token_is_refused(gw: GatewayHarness) -> None:
    await enrol(gw, "d@example.org")
    resp = await gw.client.post("/desk/h/LW-ABC123/accept", data={"x": "1"})
    assert resp.status_code == 403
    resp = await gw.client.post("/desk/h/LW-ABC123/accept", data={"csrf_token": "0" * 64})
    assert resp.status_code == 403
    assert desk_calls(gw) == []
    await gw.client.get("/desk/")
    token = desk_calls(gw)[-1]["headers"]["x-livewell-csrf"]
    resp = await gw.client.post("/desk/h/LW-ABC123/accept", data={"csrf_token": token})
    assert resp.status_code == 200
    assert desk_calls(gw)[-1]["method"] == "POST"


async def test_a_session_ends_after_15_idle_minutes(gw: GatewayHarness) -> None:
    await enrol(gw, "e@example.org")
    state(gw).clock.advance(14 * 60)
    assert (await gw.client.get("/desk/")).status_code == 200
    state(gw).clock.advance(14 * 60)  # still within 15 minutes of the last request
    assert (await gw.client.get("/desk/")).status_code == 200
    state(gw).clock.advance(15 * 60 + 1)
    assert (await gw.client.get("/desk/")).status_code == 303


async def test_a_session_ends_12_hours_after_sign_in_however_busy(gw: GatewayHarness) -> None:
    await enrol(gw, "f@example.org")
    started = now(gw)
    while (await gw.client.get("/desk/")).status_code == 200:
        state(gw).clock.advance(10 * 60)
    elapsed = (now(gw) - started).total_seconds()
    assert 12 * 3600 < elapsed <= 12 * 3600 + 10 * 60


async def test_disabling_an_account_ends_its_sessions_at_once(gw: GatewayHarness) -> None:
    await enrol(gw, "g@example.org")
    assert (await gw.client.get("/desk/")).status_code == 200
    async with state(gw).db.sessionmaker() as session, session.begin():
        assert await accounts.disable(session, "G@example.org", now(gw))
    assert (await gw.client.get("/desk/")).status_code == 303


async def test_a_key_worker_leaving_the_roster_ends_their_sessions(gw: GatewayHarness) -> None:
    await enrol(gw, "h@example.org", keyworker_id="kw-9")
    async with state(gw).db.sessionmaker() as session, session.begin():
        assert await accounts.disable_keyworker(session, "kw-9", now(gw))
    assert (await gw.client.get("/desk/")).status_code == 303


async def test_signing_out_ends_the_session(gw: GatewayHarness) -> None:
    await enrol(gw, "i@example.org")
    cookie = gw.client.cookies.get("lw_session")
    page = await gw.client.get("/desk/sign-out")
    resp = await gw.client.post("/desk/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert resp.status_code == 303
    gw.client.cookies.set("lw_session", cookie or "", path="/desk")
    assert (await gw.client.get("/desk/")).status_code == 303


async def test_wrong_sign_ins_lock_the_account_out_and_are_audited(gw: GatewayHarness) -> None:
    secret = await enrol(gw, "j@example.org")
    gw.client.cookies.clear()
    for _ in range(5):
        resp = await sign_in(gw, "j@example.org", secret, password="wrong password!")
        assert resp.status_code == 401
        assert "was not right" in resp.text
    resp = await sign_in(gw, "j@example.org", secret)
    assert resp.status_code == 401  # locked out, even with the right answers
    async with state(gw).db.sessionmaker() as session:
        actions = list((await session.scalars(select(AuditEntry.action))).all())
    assert "lockout" in actions and "signin_locked" in actions
    assert actions.count("signin_failed") == 4


async def test_the_sign_in_form_needs_its_csrf_token(gw: GatewayHarness) -> None:
    secret = await enrol(gw, "k@example.org")
    gw.client.cookies.clear()
    resp = await gw.client.post("/desk/sign-in", data={
        "email": "k@example.org", "password": PASSWORD,
        "code": pyotp.TOTP(secret).at(now(gw))})
    assert resp.status_code == 400
    assert "lw_session" not in resp.headers.get("set-cookie", "")


async def test_sign_in_pages_carry_the_security_headers(gw: GatewayHarness) -> None:
    resp = await gw.client.get("/desk/sign-in")
    assert resp.status_code == 200
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert "<title>Sign in – Living Well Line</title>" in resp.text
    css = await gw.client.get("/desk/static/nhsuk/nhsuk-frontend.min.css")
    assert css.status_code == 200


def test_after_sign_in_only_a_desk_path_is_followed() -> None:
    assert safe_next("/desk/h/LW-1") == "/desk/h/LW-1"
    for bad in ("https://evil.example/", "//evil.example/desk/", "/desk/sign-out",
                "/api/v1/referrals", "", None, "/desk/\\evil"):
        assert safe_next(bad) == "/desk/"


async def test_the_gateway_offers_no_clock_to_move_even_with_the_internal_token(
    gw: GatewayHarness,
) -> None:
    before = now(gw)
    for headers in ({}, {"x-internal-token": gw.settings.internal_secret}):
        resp = await gw.client.post("/internal/clock/advance", json={"seconds": 60},
                                    headers=headers)
        assert resp.status_code in (403, 404)
    assert now(gw) - before < timedelta(seconds=60)


async def test_removing_the_key_worker_from_the_roster_ends_their_sessions_at_once(
    gw: GatewayHarness,
) -> None:
    await enrol(gw, "left@example.org", keyworker_id="kw-left")
    gw.upstream.status = 404  # keyperson: no such key worker any more
    assert (await gw.client.get("/desk/")).status_code == 303
    assert any(s["path"] == "/internal/keyworkers/kw-left" for s in gw.upstream.seen)
    gw.upstream.status = 200
    assert (await gw.client.get("/desk/")).status_code == 303  # the account stays disabled
    async with state(gw).db.sessionmaker() as session:
        actions = list((await session.scalars(select(AuditEntry.action))).all())
    assert "disable_left_roster" in actions


async def test_keyperson_not_answering_keeps_the_session(gw: GatewayHarness) -> None:
    await enrol(gw, "stay@example.org", keyworker_id="kw-stay")
    await gw.upstream.stop()
    resp = await gw.client.get("/desk/")
    assert resp.status_code == 503  # the desk itself is down too, but not signed out
    await gw.upstream.start()
    assert (await gw.client.get("/desk/")).status_code == 200
