"""The website in Chromium as a person uses it: found by role and label, axe-core on every
page at a phone and a desktop size, the exit button, the self-assessment's item 9, the form
with a keyboard alone, a language switch, and every page without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN
from services.site.app import create_app
from tests.conftest import make_settings
from tests.site.conftest import FakeIntake
from tests.support.browser import (
    DESKTOP,
    PHONE,
    assert_accessible,
    browser,  # noqa: F401 - a Chromium per test (tests/support/browser.py)
    new_page,
    serving,
)

EXIT_URL = "https://www.bbc.co.uk/weather"
PAGES = ["/", "/advice", "/advice/wobbly-day", "/advice/professionals", "/self-assessment",
         "/contact", "/help", "/accessibility", "/privacy", "/no-such-page"]
SIZES = {"phone": PHONE, "desktop": DESKTOP}


class AsTheGatewayForwards:
    """Adds what the gateway adds to a public request (the internal token, actor anonymous)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [*scope["headers"],
                                          (H_INTERNAL_TOKEN.encode(), self.token.encode()),
                                          (H_ACTOR_KIND.encode(), b"anonymous")]}
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var: Path = tmp_path_factory.mktemp("site")
    settings = make_settings(f"sqlite:///{var / 'unused.db'}", var)
    app = create_app(settings, FakeIntake())
    with serving(AsTheGatewayForwards(app, settings.internal_secret)) as url:
        yield url


def page_at(browser: Any, size: str, **options: Any) -> Any:  # noqa: F811
    page = new_page(browser, SIZES[size], **options)
    # The exit button leaves for a real site; no test reaches the internet.
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html lang='en'><title>Weather</title></html>"))
    return page


@pytest.mark.parametrize("size", SIZES)
def test_every_page_passes_axe(browser: Any, site_url: str, size: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = page_at(browser, size)
    for path in PAGES:
        page.goto(site_url + path)
        assert_accessible(page, what=path)
    page.goto(site_url + "/contact")
    page.get_by_role("button", name="Send message").click()
    # The answer page, loaded with its styles, before axe reads it (not the page in between).
    expect(page.get_by_role("alert").first).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page, what="contact form with errors")
    page.goto(site_url + "/self-assessment")
    page.locator("form").filter(has=page.locator("input[name=phq9_9]")).get_by_role(
        "button", name="Get my result").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page, what="self-assessment with errors")
    page.context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_message_is_sent_with_the_keyboard_alone(browser: Any, site_url: str,  # noqa: F811
                                                   size: str) -> None:
    page = page_at(browser, size)
    page.goto(site_url + "/contact")
    page.get_by_label("Your message").focus()
    page.keyboard.type("I have had a hard week and would like to talk.")
    page.keyboard.press("Tab")  # to the name
    page.keyboard.type("Sam")
    page.keyboard.press("Tab")
    page.keyboard.type("07700 900982")
    page.get_by_role("button", name="Send message").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/contact/sent/"))
    assert page.get_by_role("heading", name="Message sent").is_visible()
    assert re.search(r"LW-TEST-\d{4}", page.locator(".lw-reference").inner_text())
    assert "Sam" not in page.url and "07700" not in page.url
    assert_accessible(page, what="receipt")
    page.context.close()


def test_phq9_item_9_shows_urgent_help_at_the_top_at_once(browser: Any,  # noqa: F811
                                                           site_url: str) -> None:
    page = page_at(browser, "phone")
    page.goto(site_url + "/self-assessment")
    question9 = page.get_by_role("group", name=re.compile(r"^9\. Thoughts that you would"))
    question9.get_by_label("Several days").check()
    form = page.locator("form").filter(has=page.locator("input[name=phq9_9]"))
    form.get_by_role("button", name="Get my result").click()
    card = page.locator("#urgent-help")
    assert card.is_visible()
    box = card.bounding_box()
    main = page.locator("#maincontent").bounding_box()
    assert box is not None and main is not None and box["y"] < main["y"]
    assert page.get_by_role("heading", name=re.compile("Please talk to someone today")).is_visible()
    assert_accessible(page, what="self-assessment, item 9")
    page.context.close()


def test_exit_this_page_leaves_at_once_and_back_does_not_return(browser: Any,  # noqa: F811
                                                                 site_url: str) -> None:
    page = page_at(browser, "phone")
    page.goto(site_url + "/advice")
    page.goto(site_url + "/contact")
    page.get_by_role("link", name=re.compile("Exit this page")).click()
    page.wait_for_url(EXIT_URL)
    page.go_back()
    assert page.url == site_url + "/advice"  # the contact page was replaced in the history
    page.goto(site_url + "/help")
    page.locator("body").click()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(EXIT_URL)
    page.context.close()


def test_exit_this_page_works_without_javascript(browser: Any, site_url: str) -> None:  # noqa: F811
    page = page_at(browser, "phone", java_script_enabled=False)
    page.goto(site_url + "/contact")
    page.get_by_role("link", name=re.compile("Exit this page")).click()
    page.wait_for_url(EXIT_URL)
    page.context.close()


def test_every_page_works_without_javascript(browser: Any, site_url: str) -> None:  # noqa: F811
    page = page_at(browser, "desktop", java_script_enabled=False)
    page.goto(site_url + "/contact")
    page.get_by_label("Your message").fill("Sent without JavaScript")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(re.compile(r"/contact/sent/"))
    page.goto(site_url + "/self-assessment")
    for i in range(1, 10):
        page.locator(f"input[name=phq9_{i}][value='1']").check()
    page.locator("form").filter(has=page.locator("input[name=phq9_9]")).get_by_role(
        "button", name="Get my result").click()
    assert "Your score is 9 out of 27." in page.content()
    page.context.close()


def test_switching_to_polish_changes_the_page_and_its_language(browser: Any,  # noqa: F811
                                                                site_url: str) -> None:
    page = page_at(browser, "phone")
    page.goto(site_url + "/advice/wobbly-day")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Polski").click()
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.get_by_role("heading", level=1).inner_text() == "Gorszy dzień"
    assert page.get_by_role("link", name=re.compile("Opuść tę stronę")).is_visible()
    assert_accessible(page, what="advice in Polish")
    page.goto(site_url + "/self-assessment")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert_accessible(page, what="self-assessment in Polish")
    page.context.close()


def test_the_form_reflows_at_400_percent_zoom(browser: Any, site_url: str) -> None:  # noqa: F811
    # 400 % of a 1280 px wide window is the same layout as a 320 px wide one (WCAG 1.4.10).
    page = page_at(browser, "phone")
    page.set_viewport_size({"width": 320, "height": 256})
    for path in ("/contact", "/self-assessment", "/"):
        page.goto(site_url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 320 px"
    page.context.close()
