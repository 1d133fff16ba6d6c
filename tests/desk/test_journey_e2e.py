"""The key worker's journey in a real browser through a `livewell run` stack and the Twilio
mock (issue 14's "Done when"): invite → enrol with an authenticator app → a police referral
→ the handoff SMS → its link → sign in → Accept (keyboard alone) → whom to call → "reached"
(the partner sees `contacted`) → a support plan → close (`closed`); another key worker
cannot open that person; the session ends after 15 idle minutes by the test clock; axe finds
nothing at either size. And a passkey, through Chromium's virtual authenticator."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import pyotp
import pytest

from tests.support.browser import (
    DESKTOP,
    PHONE,
    assert_accessible,
    new_page,
    screenshot,
)
from tests.support.stack import INTERNAL_TOKEN, Stack
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
T = TypeVar("T")
PASSWORD = "a long desk password"
PARTNER = "Desk Journey Police"
SIGN_IN_NEXT = re.compile(r".*/desk/sign-in\?next=/desk/.*")


def until(check: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Wait for `check` to give something truthy (the stack works on its own time)."""
    return eventually_sync(check, timeout=timeout, what=what)


def gateway_now(stack: Stack) -> datetime:
    """The time the gateway judges codes by: under the test clock it follows keyperson's."""
    resp = httpx.post(stack.service_url("keyperson") + "/internal/clock/advance",
                      json={"seconds": 0}, headers={"x-internal-token": INTERNAL_TOKEN},
                      timeout=10)
    resp.raise_for_status()
    return datetime.fromisoformat(resp.json()["now"])


def code(stack: Stack, secret: str, ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(gateway_now(stack) + timedelta(seconds=ahead))


def invite(stack: Stack, email: str, keyworker_id: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email", email, "--role",
         "key_worker", "--keyworker-id", keyworker_id, "--name", "Desk Journey"],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    url = out.stdout.decode().strip().splitlines()[-1]
    assert url.startswith(stack.gateway_url + "/desk/invite/"), out.stdout
    return url


def enrol(stack: Stack, page: Any, url: str) -> str:
    """Set up the sign-in at the invitation as the invitee would; the TOTP secret."""
    page.goto(url)
    assert page.title() == "Set up your sign-in – Living Well Line"
    assert_accessible(page, what="the invitation page")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code your authenticator app shows now").fill(code(stack, secret))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Set up and sign in").click()
    page.wait_for_url("**/desk/")
    return secret


def keyworker(http: httpx.Client, staff: dict[str, str], skill: str, serves: bool) -> str:
    resp = http.post("/api/v1/keyworkers", headers=staff, json={
        "name": "Desk Journey Worker", "phone": f"+447400{uuid.uuid4().int % 10**6:06d}",
        "localities": ["south_west"] if serves else [], "teams": ["hub"] if serves else [],
        "skills": [f"lang:{skill}"] if serves else [], "max_caseload": 1})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_a_key_worker_takes_a_handoff_from_sms_to_closed(stack: Stack, browser: Any) -> None:
    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    staff = stack.auth("Living Well Hub", "staff")
    police = stack.auth(PARTNER)
    skill = "qaa-" + uuid.uuid4().hex[:8]
    worker = keyworker(http, staff, skill, serves=True)
    other = keyworker(http, staff, skill, serves=False)
    email = f"kw-{uuid.uuid4().hex[:8]}@hub.example"

    url = invite(stack, email, worker)
    mails = [json.loads(line) for line in
             (stack.var_dir / "dry-run" / "email.jsonl").read_text().splitlines()]
    assert any(m.get("url") == url and m["to"] == email for m in mails)

    page = new_page(browser, PHONE)
    secret = enrol(stack, page, url)
    assert_accessible(page, what="the desk's home page")
    page.goto(stack.gateway_url + "/desk/sign-out")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/desk/sign-in")

    referral = http.post("/api/v1/referrals", headers=police, json={
        "subject": {"given_name": "Journey", "family_name": "Person", "phone": "07911 123456",
                    "postcode": "SW2 1AA", "preferred_language": skill},
        "reason": "Met on patrol, not sleeping.", "needs": ["isolation"],
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        "urgency": "urgent", "consent": {"subject_informed": True},
        "referrer": {"name": "PC Journey", "role": "Police officer", "phone": "020 7946 0000"}})
    assert referral.status_code == 201, referral.text
    ref, rid = referral.json()["reference"], referral.json()["id"]

    def handoff_sms() -> list[dict[str, Any]]:
        rows = httpx.get(f"{stack.twilio.base_url}/_mock/messages", timeout=10).json()
        return [m for m in rows if ref in m["body"] and "ACCEPT" in m["body"]]

    [sms] = until(handoff_sms, "the handoff SMS")
    assert "Journey" not in sms["body"] and "07911" not in sms["body"]
    link = re.search(r"(\S+/desk/h/\S+)$", sms["body"])
    assert link and link.group(1) == f"{stack.gateway_url}/desk/h/{ref}"

    page.goto(link.group(1))
    page.wait_for_url(SIGN_IN_NEXT)
    assert_accessible(page, what="the sign-in page")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(code(stack, secret, ahead=30))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**/desk/h/{ref}")
    assert page.title() == f"Handoff {ref} – Living Well Line"
    assert "Urgent" in page.content()
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert_accessible(page, what="the handoff page")
    screenshot(page, "desk-handoff")

    # Accept with the keyboard alone: Tab to the button, Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.textContent")
        if focused and focused.strip() == "Accept":
            break
    else:
        raise AssertionError("Accept was not reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/r/{ref}")
    assert page.get_by_role("heading", name="Journey Person").is_visible()
    tel = page.locator('a[href^="tel:"]')
    assert tel.count() == 1 and tel.get_attribute("href") == "tel:+447911123456"
    assert page.title() == f"Referral {ref} – Living Well Line"  # no name in the title
    again = page.reload()
    assert again is not None and again.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in again.headers["content-security-policy"]
    assert again.headers["x-content-type-options"] == "nosniff"
    assert again.headers["referrer-policy"] == "no-referrer"
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert_accessible(page, what="the referral page")
    screenshot(page, "desk-person")

    def status() -> str:
        return str(http.get(f"/api/v1/referrals/{rid}", headers=police).json()["status"])

    page.get_by_label("Reached them").check()
    page.get_by_role("button", name="Record attempt").click()
    page.wait_for_url(f"**/desk/r/{ref}")
    until(lambda: status() == "contacted", "the partner to see contacted")

    page.get_by_label("What matters to them").fill("Keeping the flat")
    page.get_by_label("Goals").fill("Sort the rent arrears")
    page.get_by_role("button", name="Save support plan").click()
    page.wait_for_url(f"**/desk/r/{ref}")
    assert "version 1" in page.content()
    assert_accessible(page, what="the referral page with a support plan")

    page.get_by_label("Close the referral").select_option("supported")
    page.get_by_role("button", name="Close referral").click()
    page.wait_for_url(f"**/desk/r/{ref}")
    until(lambda: status() == "closed", "the partner to see closed")
    assert_accessible(page, what="the closed referral")

    # Another key worker signs in and cannot open that person.
    second = new_page(browser, PHONE)
    enrol(stack, second, invite(stack, f"kw2-{uuid.uuid4().hex[:8]}@hub.example", other))
    resp = second.goto(f"{stack.gateway_url}/desk/r/{ref}")
    assert resp is not None and resp.status == 404
    assert "Journey" not in second.content()
    assert_accessible(second, what="the not-found page")

    # 15 idle minutes by the test clock end the session.
    # (in a thread: Playwright's sync API holds this thread's event loop)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, stack.advance_clock(15 * 60 + 5)).result()
    page.goto(stack.gateway_url + f"/desk/r/{ref}")
    page.wait_for_url(SIGN_IN_NEXT)
    assert "Journey" not in page.content()


def test_a_key_worker_enrols_and_signs_in_with_a_passkey(stack: Stack, browser: Any) -> None:
    """Chromium's virtual authenticator (CDP WebAuthn) stands in for the phone's screen lock.
    The page is opened at `localhost`: WebAuthn takes no IP address as relying party."""
    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    worker = keyworker(http, stack.auth("Living Well Hub", "staff"), "qaa-pk", serves=False)
    url = invite(stack, f"pk-{uuid.uuid4().hex[:8]}@hub.example", worker)
    local = url.replace("127.0.0.1", "localhost")
    page = new_page(browser, PHONE)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})

    page.goto(local)
    create = page.get_by_role("button", name="Create a passkey")
    assert create.is_visible()
    assert_accessible(page, what="the invitation page with passkeys")
    create.click()
    page.wait_for_url("**/desk/")

    page.goto(local.split("/desk/")[0] + "/desk/sign-out")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/desk/sign-in")
    assert_accessible(page, what="the sign-in page with passkeys")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url("**/desk/")
    assert page.get_by_role("heading", name="Your work").is_visible()
