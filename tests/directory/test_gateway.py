"""Through the gateway: the directory is open (anonymous, limited per address); editing it
needs a key."""

from __future__ import annotations

from pathlib import Path

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
