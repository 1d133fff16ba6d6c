"""Issue 18's "Done when" in a real browser, through a `livewell run` stack of this module's
own and the Twilio mock, on SQLite and PostgreSQL: a coordinator keeps the directory in the
desk (add, a field refused, edit, remove: CSRF through the real gateway); a key worker, on a
person's page, finds the nearest debt advice open now in the person's language and texts its
details in two taps (tick their agreement, press send); the SMS reaches the mock carrying
nothing about the person, and the month's figures count it. axe finds nothing on any page.

The stack is the module's own: the key worker's test moves the test clock on to a Wednesday
at 11:00 in London (so "open now" has a known answer), which no other test should see. The
coordinator's test comes first: an invitation made by the CLI is judged by the test clock."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.desk.test_journey_e2e import PASSWORD, code, enrol, gateway_now, until
from tests.directory.conftest import seed_data
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page
from tests.support.stack import Stack, stack_on

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")
STAFF_ORG = "Living Well Hub"
DEBT = "Example: Stockwell Debt Advice"
PERSON_PHONE = "+447911123456"


@pytest.fixture(scope="module")
def directory_stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack_on(backend, tmp_path_factory.mktemp(f"directory-{backend}")) as s:
        yield s


@pytest.fixture(scope="module")
def seeded(directory_stack: Stack) -> Stack:
    resp = httpx.post(directory_stack.gateway_url + "/api/v1/directory/import", json=seed_data(),
                      headers=directory_stack.auth(STAFF_ORG, "staff"), timeout=30)
    assert resp.status_code == 200, resp.text
    return directory_stack


def invite(stack: Stack, email: str, role: str, keyworker_id: str | None = None) -> str:
    extra = ["--keyworker-id", keyworker_id] if keyworker_id else []
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email", email, "--role", role,
         *extra, "--name", "Directory Journey"],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    return out.stdout.decode().strip().splitlines()[-1]


def sign_in(stack: Stack, page: Any, email: str, secret: str, path: str) -> None:
    page.goto(stack.gateway_url + path)
    page.wait_for_url(re.compile(r".*/desk/sign-in\?next=.*"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(code(stack, secret, ahead=30))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"**{path}")


def both_sizes(page: Any, what: str) -> None:
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert_accessible(page, what=what)


def test_a_coordinator_adds_edits_and_removes_a_service(seeded: Stack, browser: Any) -> None:
    stack = seeded
    page = new_page(browser, DESKTOP)
    enrol(stack, page, invite(stack, f"co-{uuid.uuid4().hex[:8]}@hub.example", "coordinator"))
    page.goto(stack.gateway_url + "/desk/board")
    page.get_by_role("link", name="Network directory").click()
    page.wait_for_url("**/desk/directory")
    assert page.title() == "Network directory – Living Well Line"
    assert page.get_by_role("link", name=DEBT).is_visible()
    both_sizes(page, "the directory list")

    page.get_by_role("button", name="Add a service").click()
    page.wait_for_url("**/desk/directory/new")
    both_sizes(page, "the add form")
    page.get_by_label("Name", exact=True).fill("Example: Kennington Debt Clinic")
    page.get_by_label("Postcode").fill("nowhere")
    page.get_by_label("Opening times (London time)").fill("TU,TH 10:00-16:00")
    page.get_by_label("Debt", exact=True).check()
    page.get_by_role("button", name="Save the service").click()
    assert page.title() == "Error: Add a service – Living Well Line"
    summary = page.locator(".nhsuk-error-summary")
    assert summary.get_by_role("link", name="Enter a full postcode like SW9 9AA").is_visible()
    both_sizes(page, "the add form with an error")
    page.get_by_label("Postcode").fill("SE11 4AA")
    page.get_by_label("Phone").fill("020 7946 0123")
    page.get_by_role("button", name="Save the service").click()
    page.wait_for_url(re.compile(r".*/desk/directory/[0-9a-f-]{36}\?done=added"))
    assert page.get_by_role("heading", name="Example: Kennington Debt Clinic").is_visible()
    both_sizes(page, "a service's page")

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Phone").fill("020 7946 0124")
    page.get_by_role("button", name="Save the service").click()
    page.wait_for_url("**?done=changed")
    assert "020 7946 0124" in page.content()
    found = httpx.get(stack.gateway_url + "/openreferral/services",
                      params={"taxonomy_term_id": "debt", "postcode": "SE11"}, timeout=10).json()
    assert found["contents"][0]["name"] == "Example: Kennington Debt Clinic"

    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/desk/directory?done=removed")
    assert page.get_by_role("link", name="Example: Kennington Debt Clinic").count() == 0


def _next_wednesday_11(now: datetime) -> datetime:
    local = now.astimezone(LONDON)
    days = (2 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=11, minute=0, second=0, microsecond=0)


def test_a_key_worker_texts_the_nearest_debt_advice_open_now_in_their_language(
        seeded: Stack, browser: Any) -> None:
    stack = seeded
    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    staff = stack.auth(STAFF_ORG, "staff")
    police = stack.auth("Directory Journey Police")
    worker = http.post("/api/v1/keyworkers", headers=staff, json={
        "name": "Directory Journey Worker", "phone": "+447400900301",
        "localities": ["north"], "teams": ["living_well_network"], "skills": ["lang:pl"],
        "max_caseload": 5})
    assert worker.status_code == 201, worker.text
    email = f"kw-{uuid.uuid4().hex[:8]}@hub.example"
    page = new_page(browser, PHONE)
    secret = enrol(stack, page, invite(stack, email, "key_worker", worker.json()["id"]))

    now = gateway_now(stack)
    wednesday = _next_wednesday_11(now)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's loop
        pool.submit(asyncio.run, stack.advance_clock((wednesday - now).total_seconds())).result()

    referral = http.post("/api/v1/referrals", headers=police, json={
        "subject": {"given_name": "Directory", "family_name": "Person", "phone": "07911 123456",
                    "postcode": "SW9 8AB", "preferred_language": "pl"},
        "reason": "Worried about rent arrears and bailiffs.", "needs": ["debt"],
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        "urgency": "routine", "consent": {"subject_informed": True},
        "referrer": {"name": "PC Journey", "role": "Police officer", "phone": "020 7946 0000"}})
    assert referral.status_code == 201, referral.text
    ref = referral.json()["reference"]

    sign_in(stack, page, email, secret, f"/desk/h/{ref}")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"**/desk/r/{ref}")

    page.get_by_role("link", name="Find a network service and send them its details").click()
    page.wait_for_url(f"**/desk/r/{ref}/services")
    assert page.get_by_label("Need").input_value() == "debt"  # filled in from the referral
    assert page.get_by_label("Language code").input_value() == "pl"
    page.get_by_label("Open now").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**open_now=yes**")
    first = page.locator(".nhsuk-card").first
    assert first.get_by_role("heading").inner_text() == DEBT
    both_sizes(page, "the services found")

    # The two taps: their agreement, then send.
    first.get_by_label("They agreed to be sent these details").check()
    first.get_by_role("button", name="Text them these details").click()
    page.wait_for_url("**sent=**")
    assert f"Sent the details of {DEBT} by text" in page.content()
    both_sizes(page, "the services page after sending")

    def texts() -> list[dict[str, Any]]:
        rows = httpx.get(f"{stack.twilio.base_url}/_mock/messages", timeout=10).json()
        return [m for m in rows if m["to"] == PERSON_PHONE and DEBT in m["body"]]

    [sms] = until(texts, "the signposting SMS")
    for personal in ("Directory", "Person", "SW9", "07911", ref, "rent", "arrears"):
        assert personal not in sms["body"]
    assert "020 7946 0102" in sms["body"]

    month = f"{wednesday.year:04d}-{wednesday.month:02d}"
    figures = http.get("/api/v1/reports/monthly", params={"month": month}, headers=staff)
    assert figures.status_code == 200, figures.text
    assert figures.json()["signposted"] == {DEBT: 1}
