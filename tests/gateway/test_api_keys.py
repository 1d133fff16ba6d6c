from __future__ import annotations

from gateway import keys
from services.common.clock import Clock
from tests.gateway.conftest import GatewayHarness


async def make_key(gw: GatewayHarness, org: str, role: str = "partner") -> tuple[str, str]:
    state = gw.gateway.state
    assert state is not None
    async with state.db.sessionmaker() as session, session.begin():
        row, secret = keys.new_key(session, org, role, None, Clock().now())
    return row.id, secret


async def test_the_api_needs_a_bearer_key(gw: GatewayHarness) -> None:
    resp = await gw.client.get("/api/v1/referrals")
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    resp = await gw.client.get("/api/v1/referrals", headers={"Authorization": "Bearer lw_x_y"})
    assert resp.status_code == 401
    assert gw.upstream.seen == []


async def test_the_gateways_own_refusals_on_fhir_are_operation_outcomes(
        gw: GatewayHarness) -> None:
    resp = await gw.client.get("/fhir/ServiceRequest/x")
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/fhir+json"
    assert resp.headers["www-authenticate"] == "Bearer"
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "login"
    assert gw.upstream.seen == []


async def test_a_key_is_forwarded_as_its_organisation_and_role_only(gw: GatewayHarness) -> None:
    key_id, secret = await make_key(gw, "Lambeth Police")
    resp = await gw.client.get(
        "/api/v1/referrals?status=routed",
        headers={"Authorization": f"Bearer {secret}", "X-Livewell-Org": "Someone Else",
                 "X-Internal-Token": "forged", "X-Livewell-Role": "admin"})
    assert resp.status_code == 200
    (seen,) = gw.upstream.seen
    assert seen["query"] == "status=routed"
    assert seen["headers"]["x-livewell-org"] == "Lambeth Police"
    assert seen["headers"]["x-livewell-role"] == "partner"
    assert seen["headers"]["x-livewell-key-id"] == key_id
    assert seen["headers"]["x-internal-token"] == gw.settings.internal_secret
    assert "authorization" not in {k.lower() for k in seen["headers"]}


async def test_a_revoked_key_stops_working(gw: GatewayHarness) -> None:
    key_id, secret = await make_key(gw, "Lambeth Housing")
    auth = {"Authorization": f"Bearer {secret}"}
    assert (await gw.client.get("/api/v1/referrals", headers=auth)).status_code == 200
    state = gw.gateway.state
    assert state is not None
    async with state.db.sessionmaker() as session, session.begin():
        assert await keys.revoke(session, key_id, Clock().now())
    assert (await gw.client.get("/api/v1/referrals", headers=auth)).status_code == 401


async def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(
    gw: GatewayHarness,
) -> None:
    _, secret = await make_key(gw, "Lambeth Police")
    forged = secret[: secret.rindex("_") + 1] + "A" * 40
    resp = await gw.client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401


async def test_internal_endpoints_are_not_reachable_through_the_gateway(
    gw: GatewayHarness,
) -> None:
    _, secret = await make_key(gw, "Living Well Hub", "admin")
    for path in ("/internal/clock/advance", "/internal/assignments", "/api/v1/../internal/x",
                 "/api/v1/referralsX"):
        resp = await gw.client.post(path, headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 404, path
    assert gw.upstream.seen == []


async def test_a_partner_over_its_rate_limit_gets_429_with_retry_after(
    gw: GatewayHarness,
) -> None:
    _, secret = await make_key(gw, "Busy Partner")
    auth = {"Authorization": f"Bearer {secret}"}
    statuses = [(await gw.client.get("/api/v1/referrals", headers=auth)).status_code
                for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    resp = await gw.client.get("/api/v1/referrals", headers=auth)
    assert int(resp.headers["retry-after"]) >= 1


async def test_an_api_call_to_a_service_that_is_down_is_a_clear_5xx(gw: GatewayHarness) -> None:
    _, secret = await make_key(gw, "Lambeth Police")
    await gw.upstream.stop()
    resp = await gw.client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code in (502, 504)
    assert resp.headers["content-type"] == "application/problem+json"
