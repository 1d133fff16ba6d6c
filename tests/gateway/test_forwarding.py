"""What the gateway passes on and passes back: no client-made forwarding headers upstream, no
internal address in a redirect downstream."""

from __future__ import annotations

from tests.gateway.conftest import GatewayHarness
from tests.gateway.test_api_keys import make_key

SPOOFED = {"X-Forwarded-For": "10.9.9.9", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443",
           "X-Forwarded-Prefix": "/evil", "Forwarded": "for=10.9.9.9;proto=https;host=evil"}


async def test_forwarding_headers_a_client_sends_are_not_passed_to_the_service(
    gw: GatewayHarness,
) -> None:
    _, secret = await make_key(gw, "Lambeth Police")
    resp = await gw.client.get("/api/v1/referrals",
                               headers={"Authorization": f"Bearer {secret}", **SPOOFED})
    assert resp.status_code == 200
    (seen,) = gw.upstream.seen
    assert not [h for h in seen["headers"] if h.startswith("x-forwarded") or h == "forwarded"]


async def test_a_redirect_from_a_service_never_carries_its_internal_address(
    gw: GatewayHarness,
) -> None:
    _, secret = await make_key(gw, "Lambeth Police")
    internal = f"http://127.0.0.1:{gw.upstream.port}"
    for location, expected in ((f"{internal}/api/v1/referrals?x=1", "/api/v1/referrals?x=1"),
                               (f"https://127.0.0.1:{gw.upstream.port}/api/v1/sla",
                                "/api/v1/sla"),
                               ("/api/v1/referrals", "/api/v1/referrals"),
                               ("https://line.example.org/api/v1/referrals",
                                "https://line.example.org/api/v1/referrals")):
        gw.upstream.location = location
        resp = await gw.client.get("/api/v1/referrals/",
                                   headers={"Authorization": f"Bearer {secret}", **SPOOFED})
        assert resp.status_code == 307
        assert resp.headers["location"] == expected, location
