"""The per-address limit on requests that fail authentication (`rate_limit_anonymous`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.conftest import GatewayHarness, call_raw, gateway_harness
from tests.gateway.test_api_keys import make_key
from tests.gateway.test_webhooks import CALL, signed

ATTACKER = ("203.0.113.7", 40000)
NEIGHBOUR = ("198.51.100.20", 40000)


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(database_url, tmp_path, rate_limit_anonymous="3/minute",
                               rate_limit_key="100/minute") as harness:
        yield harness


def bearer(secret: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {secret}".encode())]


async def test_an_address_that_keeps_failing_authentication_is_refused_with_429(
    limited: GatewayHarness,
) -> None:
    _, good = await make_key(limited, "Lambeth Police")
    wrong = bearer("lw_abcdef123456_" + "A" * 40)
    statuses = [(await call_raw(limited, "GET", b"/api/v1/referrals", headers=wrong,
                                client=ATTACKER))[0] for _ in range(3)]
    assert statuses == [401, 401, 401]
    status, headers, _, _ = await call_raw(limited, "GET", b"/api/v1/referrals",
                                           headers=bearer(good), client=ATTACKER)
    assert status == 429, "refused before the key is looked up at all"
    assert int(headers[b"retry-after"]) >= 1
    assert limited.upstream.seen == []
    # Another address is not affected.
    status, _, _, _ = await call_raw(limited, "GET", b"/api/v1/referrals",
                                     headers=bearer(good), client=NEIGHBOUR)
    assert status == 200


async def test_bad_signatures_and_email_passwords_count_against_the_address(
    limited: GatewayHarness,
) -> None:
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    for path in (b"/twilio/sms", b"/twilio/status"):
        status, _, _, _ = await call_raw(limited, "POST", path, body=b"a=b",
                                         headers=[*form, (b"x-twilio-signature", b"bad")],
                                         client=ATTACKER)
        assert status == 403
    status, _, _, _ = await call_raw(limited, "POST", b"/email/inbound", client=ATTACKER,
                                     headers=[(b"authorization", b"Basic bWFpbDp3cm9uZw==")])
    assert status == 401
    status, _, _, _ = await call_raw(limited, "POST", b"/email/inbound", client=ATTACKER)
    assert status == 429


async def test_a_correctly_signed_call_is_answered_from_an_address_over_its_limit(
    limited: GatewayHarness,
) -> None:
    for _ in range(5):
        await call_raw(limited, "GET", b"/api/v1/referrals", client=ATTACKER)
    body = "&".join(f"{k}={v}" for k, v in CALL.items()).replace("+", "%2B").encode()
    sig = signed("/twilio/voice", CALL)["X-Twilio-Signature"].encode()
    status, _, answer, _ = await call_raw(
        limited, "POST", b"/twilio/voice", body=body, client=ATTACKER,
        headers=[(b"content-type", b"application/x-www-form-urlencoded"),
                 (b"x-twilio-signature", sig)])
    assert status == 200 and answer.startswith(b"<Response>")


async def test_x_forwarded_for_does_not_change_the_address_without_a_trusted_proxy(
    limited: GatewayHarness,
) -> None:
    for n in range(4):  # a new claimed address each time: still one socket address
        spoof = [(b"x-forwarded-for", f"192.0.2.{n}".encode())]
        status, _, _, _ = await call_raw(limited, "GET", b"/api/v1/referrals", headers=spoof,
                                         client=ATTACKER)
    assert status == 429


async def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwarded_for(
    database_url: str, tmp_path: Path,
) -> None:
    async with gateway_harness(database_url, tmp_path, rate_limit_anonymous="2/minute",
                               trusted_proxies="10.0.0.5") as gw:
        proxy = ("10.0.0.5", 40000)

        async def via_proxy(client_ip: str) -> int:
            headers = [(b"x-forwarded-for", f"192.0.2.1, {client_ip}".encode())]
            status, _, _, _ = await call_raw(gw, "GET", b"/api/v1/referrals", headers=headers,
                                             client=proxy)
            return status

        assert [await via_proxy("203.0.113.50") for _ in range(3)] == [401, 401, 429]
        assert await via_proxy("203.0.113.51") == 401, "the proxy itself is not blocked"


async def test_the_website_stays_open_to_an_address_over_its_failure_limit(
    limited: GatewayHarness,
) -> None:
    for _ in range(4):
        await call_raw(limited, "GET", b"/api/v1/referrals", client=ATTACKER)
    status, _, _, _ = await call_raw(limited, "GET", b"/api/v1/referrals", client=ATTACKER)
    assert status == 429
    status, _, _, _ = await call_raw(limited, "GET", b"/contact", client=ATTACKER)
    assert status == 200, "a person looking for help is not refused for someone else's logins"
