"""The gateway's public routes to the website: anonymous, limited per source address, headers
kept on the way back, and a page with the numbers when the site does not answer."""

from __future__ import annotations

from pathlib import Path

import httpx

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


async def test_public_requests_are_limited_per_source_address(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_anonymous="3/minute") as gw:
        statuses = [(await gw.client.get("/")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
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
