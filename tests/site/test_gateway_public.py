"""The gateway's public routes to the website: anonymous, limited per source address, headers
kept on the way back, and a page with the numbers when the site does not answer."""

from __future__ import annotations

from pathlib import Path

import httpx
from limits import parse

from gateway.ratelimit import LocalWindow
from gateway.routes import match
from tests.gateway.conftest import gateway_harness


def test_the_sites_paths_are_public_and_the_rest_is_not() -> None:
    for path in ("/", "/contact", "/contact/sent/abc.def", "/self-assessment", "/advice",
                 "/advice/debt", "/help", "/accessibility", "/privacy", "/lang/pl",
                 "/static/site/site.css"):
        route = match(path)
        assert route is not None and (route.service, route.auth) == ("site", "public"), path
    for path in ("/contactx", "/internal/web-contacts", "/static/other", "/healthz"):
        route = match(path)
        assert route is None or route.service != "site", path


async def test_public_pages_are_forwarded_as_anonymous_with_their_headers(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path) as gw:
        resp = await gw.client.get("/advice/debt", headers={"cookie": "lang=pl"})
        assert resp.status_code == 200
        seen = gw.upstream.seen[-1]
        assert seen["path"] == "/advice/debt" and seen["headers"]["x-livewell-actor-kind"] \
            == "anonymous"
        assert seen["headers"]["cookie"] == "lang=pl"


async def test_page_views_are_limited_per_source_address(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_public_pages="3/minute",
                               rate_limit_anonymous="1/minute") as gw:
        statuses = [(await gw.client.get("/")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert int((await gw.client.get("/help")).headers["retry-after"]) >= 1
        other = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=gw.gateway, client=("192.0.2.7", 40000)), base_url="https://line.example.org")
        async with other:
            assert (await other.get("/")).status_code == 200  # another address, its own limit


async def test_when_the_site_does_not_answer_a_person_still_gets_the_numbers(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path) as gw:
        await gw.upstream.stop()
        resp = await gw.client.get("/contact")
        assert resp.status_code == 503 and resp.headers["content-type"].startswith("text/html")
        assert 'href="tel:999"' in resp.text and "116 123" in resp.text and "SHOUT" in resp.text
        assert 'href="tel:+442000000000"' in resp.text


async def test_the_contact_form_has_its_own_tighter_limit_and_page_views_theirs(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_public_pages="5/minute",
                               rate_limit_public_forms="2/minute",
                               rate_limit_anonymous="1/minute") as gw:
        sent = [(await gw.client.post("/contact", data={"message": "hello"})).status_code
                for _ in range(3)]
        assert sent == [200, 200, 429]
        # Forms sent did not use up page views, nor does scoring a self-assessment count as
        # a form (it keeps nothing): both are page views.
        views = [(await gw.client.get("/advice")).status_code,
                 (await gw.client.post("/self-assessment", data={"q1": "0"})).status_code]
        assert views == [200, 200]


def test_page_views_are_counted_in_a_sliding_window_and_old_addresses_are_forgotten() -> None:
    now = [600.0]  # the start of a minute
    window = LocalWindow(parse("4/minute"), clock=lambda: now[0])
    assert [window.allow("a") for _ in range(5)] == [True, True, True, True, False]
    assert window.allow("b")  # each address its own count
    assert window.retry_after("a") == 60
    now[0] += 60  # the next minute: the last one still counts in full
    assert not window.allow("a")
    now[0] += 30  # half of it has slid out: 4 * 0.5 + 1 fits, then + 1 more
    assert [window.allow("a") for _ in range(3)] == [True, True, False]
    now[0] += 120  # two minutes on: nothing is remembered about anyone
    window.allow("c")
    assert set(window._current) == {"c"} and not window._previous


async def test_a_person_over_a_limit_still_gets_the_numbers(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_public_pages="1/minute",
                               rate_limit_public_forms="1/minute") as gw:
        assert (await gw.client.get("/help")).status_code == 200
        assert (await gw.client.post("/contact", data={"message": "hi"})).status_code == 200
        for resp in (await gw.client.get("/help"),
                     await gw.client.post("/contact", data={"message": "hi"})):
            assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
            assert resp.headers["content-type"].startswith("text/html")
            assert resp.headers["cache-control"] == "no-store"
            assert 'href="tel:999"' in resp.text and "116 123" in resp.text
            assert 'href="tel:+442000000000"' in resp.text and "too many requests" in resp.text
        # The open directory is an API: its 429 stays problem details.
        assert (await gw.client.get("/openreferral/services")).headers[
            "content-type"] == "application/problem+json"
