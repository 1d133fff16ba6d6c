from __future__ import annotations

from pathlib import Path

from gateway.openapi import merge_specs
from services.common.settings import SERVICES
from tests.gateway.conftest import GatewayHarness, call_raw, gateway_harness


async def test_ready_when_every_service_is_ready(gw: GatewayHarness) -> None:
    resp = await gw.client.get("/readyz")
    assert resp.status_code == 200
    assert set(resp.json()["services"]) == {"gateway", *SERVICES}


async def test_not_ready_when_a_service_is_down(gw: GatewayHarness) -> None:
    await gw.upstream.stop()
    resp = await gw.client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["services"]["intake"]["status"] == "unreachable"


async def test_metrics_are_prometheus_text_labelled_by_service(gw: GatewayHarness) -> None:
    await gw.client.get("/healthz")
    resp = await gw.client.get("/metrics")
    assert resp.status_code == 200
    assert 'service="gateway"' in resp.text


async def test_unknown_paths_are_problem_json_404(gw: GatewayHarness) -> None:
    resp = await gw.client.get("/nope")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"


def test_the_merged_document_keeps_only_public_paths_of_their_owner() -> None:
    a = {"paths": {"/api/v1/referrals": {"post": {"responses": {"201": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
        "/internal/referrals": {"post": {}}},
        "components": {"schemas": {"Thing": {"type": "object", "title": "A"}}}}
    b = {"paths": {"/api/v1/keyworkers": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
        "/api/v1/referrals": {"get": {}}},
        "components": {"schemas": {"Thing": {"type": "object", "title": "B"}}}}
    doc = merge_specs({"referral": a, "keyperson": b})
    assert set(doc["paths"]) == {"/api/v1/referrals", "/api/v1/keyworkers",
                                 "/api/v1/reports/monthly"}  # the gateway's own
    assert "post" in doc["paths"]["/api/v1/referrals"]
    ref = doc["paths"]["/api/v1/keyworkers"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/keyperson_Thing"
    assert doc["components"]["schemas"]["keyperson_Thing"]["title"] == "B"


OUTSIDE = ("203.0.113.9", 40000)


async def test_metrics_are_refused_to_an_outside_address_without_the_token(
    gw: GatewayHarness,
) -> None:
    status, headers, body, _ = await call_raw(gw, "GET", b"/metrics", client=OUTSIDE)
    assert status == 403
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"livewell" not in body and b"http_requests" not in body
    assert [s for s in gw.upstream.seen if s["path"] == "/metrics"] == []


async def test_metrics_answer_a_scraper_with_the_metrics_token(
    database_url: str, tmp_path: Path,
) -> None:
    async with gateway_harness(database_url, tmp_path, metrics_token="scrape-secret") as gw:
        ok = [(b"authorization", b"Bearer scrape-secret")]
        status, _, body, _ = await call_raw(gw, "GET", b"/metrics", headers=ok, client=OUTSIDE)
        assert status == 200 and b'service="gateway"' in body
        wrong = [(b"authorization", b"Bearer nope")]
        for headers in (wrong, []):
            # With a token set, being on loopback is not enough (a local proxy is loopback).
            for client in (OUTSIDE, ("127.0.0.1", 40000)):
                status, _, _, _ = await call_raw(gw, "GET", b"/metrics", headers=headers,
                                                 client=client)
                assert status == 403, (headers, client)


async def test_the_services_metrics_are_fetched_once_for_scrapes_close_together(
    gw: GatewayHarness,
) -> None:
    for _ in range(5):
        assert (await gw.client.get("/metrics")).status_code == 200
    fetched = [s for s in gw.upstream.seen if s["path"] == "/metrics"]
    assert len(fetched) == len(SERVICES), "one fan-out served every scrape"


async def test_the_gateway_never_redirects_to_add_or_remove_a_slash(gw: GatewayHarness) -> None:
    for path in ("/healthz/", "/metrics/", "/docs/"):
        resp = await gw.client.get(path, headers={"X-Forwarded-Proto": "https"})
        assert resp.status_code == 404, (path, resp.status_code)
        assert "location" not in resp.headers


async def test_an_admin_key_reads_metrics_and_a_staff_or_partner_key_does_not(
    gw: GatewayHarness,
) -> None:
    from tests.gateway.test_api_keys import make_key

    for role, expected in (("admin", 200), ("staff", 403), ("partner", 403)):
        _, secret = await make_key(gw, "Living Well Hub", role)
        status, _, _, _ = await call_raw(gw, "GET", b"/metrics", client=OUTSIDE,
                                         headers=[(b"authorization", f"Bearer {secret}".encode())])
        assert status == expected, role
