"""The Hub board in Chromium through a `livewell run` stack: two coordinators each with the
board open; a referral made with the API and a crisis text appear without a reload; the
crisis alert is acknowledged in one and the other shows who and when; a referral is given
to a chosen key worker from the board; removing a shift opens a rota gap on the open board;
the rota's week; a person is found by phone and their page opened from the results; a key
worker and their leave set up with forms, the routing dry run, a possible match settled; axe
finds nothing at phone and desktop sizes."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.desk.test_journey_e2e import PASSWORD, code, gateway_now, until
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page, screenshot
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
LIVE = 5000  # ms: a change must reach an open board within 5 s


def coordinator(stack: Stack, browser: Any, viewport: dict[str, int]) -> Any:
    """A coordinator invited and enrolled (signed in at the end of it), on the board."""
    email = f"coord-{uuid.uuid4().hex[:8]}@hub.example"
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email", email, "--role",
         "coordinator", "--name", "Board Coordinator"],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    url = out.stdout.decode().strip().splitlines()[-1]
    page = new_page(browser, viewport)
    page.goto(url)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code your authenticator app shows now").fill(code(stack, secret))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Set up and sign in").click()
    page.wait_for_url("**/desk/")
    page.goto(stack.gateway_url + "/desk/board")
    assert page.title() == "Hub board – Living Well Line"
    return page


def worker(http: httpx.Client, staff: dict[str, str], name: str, skill: str) -> str:
    resp = http.post("/api/v1/keyworkers", headers=staff, json={
        "name": name, "phone": f"+447400{uuid.uuid4().int % 10**6:06d}",
        "localities": ["south_west"], "teams": ["hub"], "skills": [f"lang:{skill}"],
        "max_caseload": 5})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def a_week_of_duty(http: httpx.Client, staff: dict[str, str], keyworker_id: str,
                   now: datetime) -> list[str]:
    """Borough-wide duty coordinator cover from an hour ago for 8 days, in 24-hour shifts."""
    ids, start, end = [], now - timedelta(hours=1), now + timedelta(days=8)
    while start < end:
        resp = http.post("/api/v1/rota/shifts", headers=staff, json={
            "keyworker_id": keyworker_id, "role": "duty_coordinator",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=24)).isoformat()})
        assert resp.status_code == 201, resp.text
        ids.append(str(resp.json()["id"]))
        start += timedelta(hours=24)
    return ids


def refer(http: httpx.Client, police: dict[str, str], language: str, phone: str) -> dict[str, Any]:
    resp = http.post("/api/v1/referrals", headers=police, json={
        "subject": {"given_name": "Board", "family_name": "Person", "phone": phone,
                    "postcode": "SW2 1AA", "preferred_language": language},
        "reason": "Not sleeping.", "needs": ["isolation"],
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        # very urgent: ahead of any urgent one waiting from other tests on the board's first 25
        "urgency": "very_urgent", "consent": {"subject_informed": True},
        "referrer": {"name": "PC Board", "role": "Police officer", "phone": "020 7946 0000"}})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_the_board_is_live_and_coordinators_act_from_it(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    staff = stack.auth("Living Well Hub", "staff")
    police = stack.auth("Board Police")
    skill = "qab-" + uuid.uuid4().hex[:8]
    ash = worker(http, staff, f"Ash {skill}", skill)
    bo = worker(http, staff, f"Bo {skill}", skill)
    duty = worker(http, staff, f"Duty {skill}", "none-" + skill)
    shifts = a_week_of_duty(http, staff, duty, gateway_now(stack))

    first = coordinator(stack, browser, DESKTOP)
    second = coordinator(stack, browser, PHONE)
    for page in (first, second):
        assert_accessible(page, what="the Hub board")
    expect(first.locator("#on-duty + table")).to_contain_text(f"Duty {skill}")

    phone = f"07400 {uuid.uuid4().int % 10**6:06d}"
    fits = refer(http, police, skill, phone)
    referrals = first.locator("section[aria-labelledby=referrals]")
    expect(referrals).to_contain_text(fits["reference"], timeout=LIVE)

    caller = f"+447400{uuid.uuid4().int % 10**6:06d}"
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "SM" + uuid.uuid4().hex,
            "From": caller, "To": stack.twilio_number, "Body": "I want to die tonight",
            "NumMedia": "0"}
    texted = http.post("/twilio/sms", data=form, headers=stack.sign("/twilio/sms", form))
    assert texted.status_code == 200, texted.text
    callbacks = second.locator("section[aria-labelledby=callbacks]")
    expect(callbacks.get_by_role("link", name=f"Call back {caller}")).to_be_visible(timeout=LIVE)
    item = callbacks.locator(".lw-item", has=second.get_by_role("link",
                                                                  name=f"Call back {caller}"))
    expect(item).to_contain_text("Crisis")
    seen = re.search(r"LW-[0-9A-Z]{4}-[0-9A-Z]{4}", item.inner_text())
    assert seen, item.inner_text()
    reference = seen.group(0)
    crisis = f"Crisis contact: {reference}"
    alerts_first = first.locator("section[aria-labelledby=alerts]")
    alerts_second = second.locator("section[aria-labelledby=alerts]")
    expect(alerts_first).to_contain_text(crisis, timeout=LIVE)
    expect(alerts_second).to_contain_text(crisis, timeout=LIVE)

    second.get_by_role("button", name=f"Acknowledge Crisis contact {reference}").click()
    second.wait_for_url("**/desk/board#alerts")
    expect(alerts_second).to_contain_text(
        f"Crisis contact {reference}: acknowledged by you")
    expect(alerts_first).to_contain_text(
        f"Crisis contact {reference}: acknowledged by coordinator", timeout=LIVE)
    screenshot(first, "desk-board")
    assert_accessible(first, what="the Hub board with items")
    assert_accessible(second, what="the Hub board with items")

    def holder() -> str | None:
        resp = http.get(f"/api/v1/assignments/{fits['id']}", headers=staff)
        return str(resp.json()["keyworker_id"]) if resp.status_code == 200 else None

    given = until(holder, "the first assignment")
    other, other_name = (bo, f"Bo {skill}") if given == ash else (ash, f"Ash {skill}")
    first.get_by_role("link", name=f"Assign or reassign {fits['reference']}").click()
    first.wait_for_url(f"**/desk/board/referrals/{fits['id']}")
    assert_accessible(first, what="the assign page")
    first.get_by_label(other_name).check()
    first.get_by_role("button", name="Give it to this key worker").click()
    first.wait_for_url("**/desk/board#referrals")
    until(lambda: holder() == other, "the chosen key worker to hold the referral")

    gaps = first.locator("#gap-list")
    expect(gaps).not_to_contain_text("Duty coordinator, North")
    removed = http.delete(f"/api/v1/rota/shifts/{shifts[2]}", headers=staff)
    assert removed.status_code == 204
    expect(gaps).to_contain_text("Duty coordinator, North: nobody from", timeout=LIVE)

    for page, viewport in ((second, PHONE), (first, DESKTOP)):
        page.goto(stack.gateway_url + "/desk/rota")
        expect(page.locator("#days")).to_contain_text(f"Duty {skill}")
        assert_accessible(page, what=f"the rota week at {viewport}")
        page.goto(stack.gateway_url + "/desk/people")
        assert_accessible(page, what=f"people search at {viewport}")
    first.get_by_label("Phone number").check()
    first.get_by_label("Search for").fill(phone)

    def found() -> bool:  # with their referral, which intake learns a moment later
        first.get_by_role("button", name="Search").click()
        return first.get_by_role("link", name=fits["reference"]).count() > 0

    until(found, "the person found by phone, with their referral")
    assert_accessible(first, what="people search results")
    first.get_by_role("link", name="Board Person").click()
    first.wait_for_url(f"**/desk/r/{fits['reference']}")
    expect(first.locator("main")).to_contain_text("Not sleeping.")


def test_running_the_service_from_the_desk(stack: Stack, browser: Any) -> None:
    """A coordinator sets up a key worker and their leave with forms alone, reads the rules in
    force and tries a referral's route, settles a possible match; every page axe-clean at
    phone and desktop sizes."""
    from playwright.sync_api import expect

    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    police = stack.auth("Board Police")
    family = "Match" + uuid.uuid4().hex[:6]
    desk, phone_page = coordinator(stack, browser, DESKTOP), coordinator(stack, browser, PHONE)

    def refer_rae() -> None:
        resp = http.post("/api/v1/referrals", headers=police, json={
            "subject": {"given_name": "Rae", "family_name": family,
                        "phone": f"07400 {uuid.uuid4().int % 10**6:06d}",
                        "date_of_birth": "1984-03-02", "postcode": "SW2 1AA"},
            "reason": "Low mood.", "needs": ["isolation"], "urgency": "routine",
            "consent": {"subject_informed": True},
            "referrer": {"name": "PC Board", "role": "Police officer"}})
        assert resp.status_code == 201, resp.text

    refer_rae()
    desk.goto(stack.gateway_url + "/desk/people")

    def known() -> bool:  # the first record exists before the second can be matched to it
        desk.get_by_label("Search for").fill(f"Rae {family}")
        desk.get_by_role("button", name="Search").click()
        return family in desk.locator("main").inner_text()

    until(known, "the first record of the person")
    refer_rae()

    name = f"Kit {uuid.uuid4().hex[:6]}"
    desk.goto(stack.gateway_url + "/desk/keyworkers")
    desk.get_by_label("Name", exact=True).fill(name)
    desk.get_by_label("Mobile number").fill(f"07400 {uuid.uuid4().int % 10**6:06d}")
    desk.get_by_role("group", name="Localities").get_by_label("North").check()
    desk.get_by_role("group", name="Teams").get_by_label("Hub").check()
    desk.get_by_label("Skills").fill("lang:pl")
    desk.get_by_role("button", name="Add to the roster").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(name)
    desk.get_by_label("From (London time)").fill("2030-01-06T09:00")
    desk.get_by_label("Until (London time)").fill("2030-01-10T17:00")
    desk.get_by_role("button", name="Add the absence").click()
    expect(desk.locator("#absences + ul")).to_contain_text("Leave: 09:00, 06 January 2030")
    worker_url = desk.url.split("#")[0]

    desk.goto(stack.gateway_url + "/desk/rules")
    desk.get_by_label("Self-harm").check()
    desk.get_by_label("Postcode").fill("SW2 1AA")
    desk.get_by_role("button", name="Route it").click()
    expect(desk.locator("#route")).to_contain_text("Very urgent")

    desk.goto(stack.gateway_url + "/desk/matches")

    def listed() -> bool:
        desk.reload()
        return desk.locator("section", has_text=family).count() > 0

    until(listed, "the possible match listed")
    for page, viewport in ((desk, DESKTOP), (phone_page, PHONE)):
        for path in ("/desk/keyworkers", worker_url, "/desk/rules", "/desk/matches",
                     "/desk/outreach"):
            page.goto(path if path.startswith("http") else stack.gateway_url + path)
            assert_accessible(page, what=f"{path} at {viewport}")
    desk.goto(stack.gateway_url + "/desk/matches")
    desk.locator("section", has_text=family).first.get_by_role(
        "button", name="They are different people").click()
    expect(desk.locator("main")).not_to_contain_text(family)
