"""The desk's report page in a real browser through the figures stack: a coordinator signs in
and sees the month's figures as charts (accessible SVG, no script, styles from the desk's own
stylesheet) with the same numbers in tables, and downloads the CSV and the publication CSV; a
key worker is not shown the page; axe finds nothing at either size."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from services.common.figures import Month
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page
from tests.support.stack import INTERNAL_TOKEN, Stack

pytestmark = pytest.mark.e2e
PASSWORD = "a long report password"


def _invite(stack: Stack, role: str, keyworker_id: str | None = None) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@hub.example"
    extra = ["--keyworker-id", keyworker_id] if keyworker_id else []
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email", email, "--role", role,
         "--name", "Report Reader", *extra],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    return out.stdout.decode().strip().splitlines()[-1]


def _now(stack: Stack) -> datetime:
    resp = httpx.post(stack.service_url("intake") + "/internal/clock/advance",
                      json={"seconds": 0},
                      headers={"x-internal-token": INTERNAL_TOKEN}, timeout=10)
    resp.raise_for_status()
    return datetime.fromisoformat(resp.json()["now"])


def _enrol(stack: Stack, page: Any, url: str) -> None:
    page.goto(url)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    code = pyotp.TOTP(secret).at(_now(stack) + timedelta(seconds=0))
    page.get_by_label("Code your authenticator app shows now").fill(code)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Set up and sign in").click()
    page.wait_for_url("**/desk/")


def _session(page: Any) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())


def test_a_coordinator_reads_the_month_as_charts_and_tables_and_downloads_it(
    figures_stack: Stack, browser: Any,
) -> None:
    stack = figures_stack
    month = str(Month.of(_now(stack)))
    figures = httpx.get(stack.gateway_url + "/api/v1/reports/monthly",
                        params={"month": month}, timeout=60,
                        headers=stack.auth("Living Well Hub", "staff")).json()

    page = new_page(browser, DESKTOP)
    _enrol(stack, page, _invite(stack, "coordinator"))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{stack.gateway_url}/desk/report?month={month}")
    assert page.title().startswith("Monthly figures")
    charts = page.locator("figure svg[role=img]")
    assert charts.count() >= 3
    for i in range(charts.count()):
        svg = charts.nth(i)
        assert svg.locator("title").first.text_content()
        labelled = svg.evaluate("e => e.getAttribute('aria-labelledby').split(' ')"
                                "  .map(id => document.getElementById(id).textContent)")
        assert len(labelled) == 2 and all(labelled), labelled
    assert page.locator("svg script").count() == 0
    assert not [e for e in errors if "Content Security Policy" in e], errors
    # The stylesheet reached the charts: pygal's bars are filled in the NHS blue.
    fill = page.locator("svg .color-0").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(0, 94, 184)", fill
    people = page.get_by_role("table", name="People supported each month")
    last = people.locator("tbody tr").last
    assert last.locator("td").inner_text() == str(figures["people_supported"])
    assert_accessible(page, what="the report page")

    with page.expect_download() as got:
        page.get_by_role("link", name="Download the figures (CSV)").click()
    rows = Path(got.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0] == "measure,breakdown,value"
    assert f"people_supported,,{figures['people_supported']}" in rows
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the figures for publication (CSV)").click()
    published = Path(got.value.path()).read_text(encoding="utf-8")
    assert "disclosure_control" not in published.splitlines()[0]
    assert "percent_within_60s" in published

    # The API admits the coordinator's session too (the browser keeps its cookie to /desk,
    # so a script sends it).
    api = httpx.get(f"{stack.gateway_url}/api/v1/reports/monthly", params={"month": month},
                    headers={"cookie": _session(page)}, timeout=60)
    assert api.status_code == 200, api.text
    assert api.json()["people_supported"] == figures["people_supported"]

    phone = new_page(browser, PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{stack.gateway_url}/desk/report?month={month}")
    assert_accessible(phone, what="the report page on a phone")

    worker = httpx.post(stack.gateway_url + "/api/v1/keyworkers", timeout=15,
                        headers=stack.auth("Living Well Hub", "staff"), json={
                            "name": "Report Worker", "max_caseload": 1,
                            "phone": f"+447400{uuid.uuid4().int % 10**6:06d}",
                            "localities": [], "teams": [], "skills": []})
    assert worker.status_code == 201, worker.text
    other = new_page(browser, PHONE)
    _enrol(stack, other, _invite(stack, "key_worker", worker.json()["id"]))
    refused = other.goto(f"{stack.gateway_url}/desk/report?month={month}")
    assert refused is not None and refused.status == 404
    api = httpx.get(f"{stack.gateway_url}/api/v1/reports/monthly", params={"month": month},
                    headers={"cookie": _session(other)}, timeout=60)
    assert api.status_code == 403
