from __future__ import annotations

from gateway.openapi import merge_specs
from tests.gateway.conftest import GatewayHarness


async def test_ready_when_every_service_is_ready(gw: GatewayHarness) -> None:
    resp = await gw.client.get("/readyz")
    assert resp.status_code == 200
    assert set(resp.json()["services"]) == {"gateway", "intake", "referral", "keyperson",
                                            "notify"}


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
    assert set(doc["paths"]) == {"/api/v1/referrals", "/api/v1/keyworkers"}
    assert "post" in doc["paths"]["/api/v1/referrals"]
    ref = doc["paths"]["/api/v1/keyworkers"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/keyperson_Thing"
    assert doc["components"]["schemas"]["keyperson_Thing"]["title"] == "B"
