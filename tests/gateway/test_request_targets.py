"""What the gateway refuses before authentication, and that what it forwards is exactly what it
routed on: request targets are given as the raw bytes a client's own socket would send."""

from __future__ import annotations

import json

import pytest

from tests.gateway.conftest import GatewayHarness, call_raw

REFUSED = [
    b"/api/v1/referrals/../../../internal/referrals/x/events",
    b"/api/v1/referrals/%2e%2e/%2e%2e/%2e%2e/internal/referrals/x/events",
    b"/api/v1/referrals/%2E%2E/internal",
    b"/api/v1/referrals/.%2e/internal",
    b"/api/v1/referrals/%2e./internal",
    b"/api/v1/referrals/./x",
    b"/api/v1/referrals/..",
    b"/api/v1/referrals/..%2f..%2finternal",
    b"/api/v1/referrals%2f..%2f..%2finternal",
    b"/api/v1/referrals/..%5c..%5cinternal",
    b"/api/v1/referrals/..\\..\\internal",
    b"/api/v1/referrals/%252e%252e/internal",
    b"/api/v1/referrals/x%3Fstatus=closed",
    b"/api/v1/referrals/x%23frag",
    b"/api/v1/referrals/x%00",
    b"/api/v1/referrals/x%0d%0aX-Internal-Token:%20forged",
    b"/api/v1/referrals/x\x01",
    b"/api/v1/referrals//x",
    b"//api/v1/referrals",
    b"/api/v1/referrals/x%zz",
    b"/api/v1/referrals/\xc3\xa9",
    b"/fhir/%2e%2e/internal/referrals/x/events",
    b"/twilio/sms/%2e%2e/%2e%2e/internal/person-messages",
    b"/email/inbound/../../internal/person-messages",
    b"/healthz/%2e%2e/metrics",
]


@pytest.mark.parametrize("raw", REFUSED, ids=[r.decode("latin-1") for r in REFUSED])
async def test_a_target_with_dot_segments_or_encoded_separators_is_refused_unforwarded(
    gw: GatewayHarness, raw: bytes,
) -> None:
    status, headers, body, read = await call_raw(gw, "POST", raw, body=b"{}")
    assert status == 400, (raw, body)
    assert headers[b"content-type"] == b"application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["errors"][0]["loc"] == ["path"]
    assert not read, "refused before the body was read"
    assert gw.upstream.seen == []


async def test_a_refused_target_is_refused_before_authentication(gw: GatewayHarness) -> None:
    status, _, _, _ = await call_raw(gw, "GET", b"/api/v1/referrals/%2e%2e/internal")
    assert status == 400  # not 401: no key was needed to learn nothing


async def test_the_path_is_forwarded_byte_for_byte_as_routed(gw: GatewayHarness) -> None:
    from tests.gateway.test_api_keys import make_key

    _, secret = await make_key(gw, "Exact Partner")
    auth = [(b"authorization", f"Bearer {secret}".encode())]
    raw = b"/api/v1/people/a%7Eb%2Cc%20d"
    status, _, _, _ = await call_raw(gw, "GET", raw, headers=auth, query=b"q=%7E1&r=a%2Fb")
    assert status == 200
    (seen,) = gw.upstream.seen
    assert seen["raw_path"] == "/api/v1/people/a%7Eb%2Cc%20d?q=%7E1&r=a%2Fb"


async def test_a_path_that_is_only_encoded_differently_is_not_a_route(
    gw: GatewayHarness,
) -> None:
    status, _, _, _ = await call_raw(gw, "GET", b"/%61pi/v1/referrals")
    assert status == 404
    assert gw.upstream.seen == []
