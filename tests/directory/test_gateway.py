"""Through the gateway: the directory is open (anonymous, limited per address); editing it
needs a key."""

from __future__ import annotations

from pathlib import Path

from gateway.openapi import merge_specs
from gateway.routes import match
from tests.gateway.conftest import gateway_harness


def test_the_directory_is_public_and_its_editing_is_not() -> None:
    for path in ("/openreferral", "/openreferral/services", "/openreferral/services/abc",
                 "/openreferral/taxonomies", "/openreferral/taxonomy_terms/abc"):
        route = match(path)
        assert route is not None and (route.service, route.auth) == ("referral", "public"), path
    route = match("/api/v1/directory/import")
    assert route is not None and (route.service, route.auth) == ("referral", "key")


async def test_the_open_endpoints_need_no_key_and_are_limited_per_address(
        database_url: str, tmp_path: Path) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_public_pages="2/minute") as gw:
        statuses = [(await gw.client.get("/openreferral/services")).status_code
                    for _ in range(3)]
        assert statuses == [200, 200, 429]
        seen = gw.upstream.seen[-1]
        assert seen["headers"]["x-livewell-actor-kind"] == "anonymous"
        assert (await gw.client.post("/api/v1/directory/import", json={})).status_code == 401


async def test_when_referral_does_not_answer_the_directory_is_a_json_problem_not_a_page(
        database_url: str, tmp_path: Path) -> None:
    """Another council's system reads `/openreferral` as JSON: a 503 there is problem+json;
    the website's pages (the same kind of public route) keep their page with the numbers."""
    async with gateway_harness(database_url, tmp_path) as gw:
        await gw.upstream.stop()
        resp = await gw.client.get("/openreferral/services")
        assert resp.status_code == 503
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.headers["retry-after"] and resp.headers["cache-control"] == "no-store"
        assert resp.json()["status"] == 503 and resp.json()["type"].endswith("unavailable")
        page = await gw.client.get("/advice")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")


def test_the_published_api_says_the_directory_answers_503_as_a_problem() -> None:
    spec = {"openapi": "3.1.0", "paths": {
        "/openreferral/services": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": {}}}
    doc = merge_specs({"referral": spec})
    unavailable = doc["paths"]["/openreferral/services"]["get"]["responses"]["503"]
    assert "text/html" not in unavailable.get("content", {})
