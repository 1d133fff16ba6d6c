"""The web kit: the base layout with the NHS.UK assets, the security headers, and a real
browser loading a page under the strict Content-Security-Policy with axe clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from services.common.web import Pages, SecurityHeaders, mount_static
from services.common.web.static import KIT_STATIC
from tests.support.browser import DESKTOP, PHONE, assert_accessible, new_page, serving

PAGE = """{% extends "kit/base.jinja" %}
{% from "nhsuk/components/button/macro.jinja" import button %}
{% block pageTitle %}Kit check – Living Well Line{% endblock %}
{% block content %}<h1 class="nhsuk-heading-xl">{{ _("Hello") }}</h1>
<form method="post" action="/done">{{ button({"text": "Continue"}) }}</form>{% endblock %}
"""


def _app(tmp_path: Path, *, no_store: bool) -> Any:
    (tmp_path / "page.jinja").write_text(PAGE)
    pages = Pages([tmp_path])
    app = FastAPI()
    mount_static(app, "/static")

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return pages.response(request, "page.jinja", {"assetPath": "/static"})

    return SecurityHeaders(app, no_store=no_store)


async def test_every_page_carries_the_security_headers(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path, no_store=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.get("/")
    assert resp.status_code == 200
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"
    assert "<script>" not in resp.text  # the layout has no inline script
    assert '<link rel="stylesheet" href="/static/nhsuk/nhsuk-frontend.min.css">' in resp.text


def test_vendored_css_makes_no_third_party_request() -> None:
    css = (KIT_STATIC / "nhsuk" / "nhsuk-frontend.min.css").read_text()
    assert "://" not in css
    assert "url(/" not in css  # asset URLs are relative to wherever a service serves them


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_kit_page_loads_under_its_csp_and_is_accessible(
        browser: Any, tmp_path: Path, viewport: dict[str, int]) -> None:
    with serving(_app(tmp_path, no_store=False)) as url:
        page = new_page(browser, viewport)
        refused: list[str] = []
        page.on("console", lambda msg: refused.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        failed: list[str] = []
        page.on("requestfailed", lambda req: failed.append(req.url))
        page.goto(url + "/")
        page.wait_for_function("document.body.classList.contains('js-enabled')")
        assert page.get_by_role("button", name="Continue").is_visible()
        assert not refused and not failed
        assert_accessible(page)
        page.context.close()
