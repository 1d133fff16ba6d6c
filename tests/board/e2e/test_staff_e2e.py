"""Staff accounts from the desk in Chromium through a `livewell run` stack: an admin invites a
key worker and a coordinator with the form (each link shown once and written to the dry-run
mail, as `livewell staff invite` does), both enrol and get a 403 page on staff accounts, the
admin disables the key worker (signed out at once) and makes the coordinator an admin (who
can then open it); every staff page axe-clean at desktop and phone sizes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest

from tests.board.e2e.test_board_e2e import worker
from tests.desk.test_journey_e2e import enrol
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def invite_form(page: Any, name: str, email: str, role: str, keyworker: str | None) -> str:
    """Invite someone with the staff page's form; the link it shows, once."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("group", name="Role").get_by_label(role, exact=True).check()
    if keyworker:
        page.get_by_label("Key worker on the roster").select_option(label=keyworker)
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_selector("#invitation-link")
    link: str = page.locator("#invitation-link").inner_text()
    return link


def test_an_admin_manages_staff_accounts_from_the_desk(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    tag = uuid.uuid4().hex[:8]
    http = httpx.Client(base_url=stack.gateway_url, timeout=15)
    kit = f"Kit {tag}"
    worker(http, stack.auth("Living Well Hub", "staff"), kit, "pl")
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email",
         f"admin-{tag}@hub.example", "--role", "admin", "--name", f"Ada {tag}"],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    admin = new_page(browser, DESKTOP)
    enrol(stack, admin, out.stdout.decode().strip().splitlines()[-1])

    admin.goto(stack.gateway_url + "/desk/staff")
    assert admin.title() == "Staff accounts – Living Well Line"
    assert_accessible(admin, what="staff accounts")
    admin.get_by_role("button", name="Send the invitation").click()  # nothing filled in
    expect(admin.locator(".nhsuk-error-summary")).to_contain_text("email address")
    assert admin.title().startswith("Error: ")
    assert_accessible(admin, what="staff accounts with an error")
    kit_link = invite_form(admin, kit, f"kit-{tag}@hub.example", "Key worker", kit)
    assert_accessible(admin, what="an invitation sent")
    admin.goto(stack.gateway_url + "/desk/staff")
    coordinator_link = invite_form(admin, f"Cy {tag}", f"cy-{tag}@hub.example", "Coordinator",
                                   None)
    mail = [json.loads(line) for line in
            (stack.var_dir / "dry-run" / "email.jsonl").read_text().splitlines()]
    assert {kit_link, coordinator_link} <= {m.get("url") for m in mail}

    kit_page, cy_page = new_page(browser, PHONE), new_page(browser, PHONE)
    enrol(stack, kit_page, kit_link)
    enrol(stack, cy_page, coordinator_link)
    for page in (kit_page, cy_page):
        refused = page.goto(stack.gateway_url + "/desk/staff")
        assert refused is not None and refused.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("This page is for admins")
    assert_accessible(kit_page, what="staff accounts refused")

    admin.goto(stack.gateway_url + "/desk/staff")
    admin.get_by_role("link", name=kit, exact=True).click()
    assert_accessible(admin, what="an account's page")
    admin.get_by_role("button", name=f"Disable {kit}").click()
    expect(admin.locator("#current-status")).to_have_text("Disabled")
    kit_page.goto(stack.gateway_url + "/desk/")
    assert "/desk/sign-in" in kit_page.url

    admin.goto(stack.gateway_url + "/desk/staff")
    admin.get_by_role("link", name=f"Cy {tag}", exact=True).click()
    admin.get_by_role("group", name="Role").get_by_label("Admin", exact=True).check()
    admin.get_by_role("button", name="Save the role").click()
    expect(admin.locator("#current-role")).to_have_text("Admin")
    promoted = cy_page.goto(stack.gateway_url + "/desk/staff")
    assert promoted is not None and promoted.status == 200
    assert_accessible(cy_page, what="staff accounts")
    cy_page.get_by_role("link", name=f"Ada {tag}", exact=True).click()
    assert_accessible(cy_page, what="an account's page")
