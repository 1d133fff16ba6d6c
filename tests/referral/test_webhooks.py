"""Closed loop: each status change of a partner's referral reaches its webhook, signed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.referral import deps, webhooks
from services.referral.models import OutboxMessage
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, referral_body
from tests.security.test_webhook_ssrf import FakeDns, Network
from tests.support.service import key_headers
from tests.support.stack import eventually


async def _register(referral: Service, headers: dict[str, str], url: str) -> dict[str, str]:
    resp = await referral.client.post("/api/v1/webhooks", headers=headers, json={"url": url})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_each_status_change_arrives_signed(referral: Service) -> None:
    org = key_headers(f"Housing {uuid.uuid4()}")
    hook = await _register(referral, org, "https://partner.example/livewell")
    assert hook["secret"].startswith("whsec_")
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=org)).json()["id"]
    t0 = datetime.now(UTC)
    for n, event in enumerate(("assigned", "accepted", "contacted")):
        await referral.client.post(f"/internal/referrals/{rid}/events", json={
            "event": event, "at": (t0 + timedelta(minutes=n + 1)).isoformat()})

    def mine() -> list[dict[str, object]]:
        return [json.loads(body) for url, body, _ in referral.poster.sent
                if json.loads(body)["referral_id"] == rid]

    wanted = {"received", "assigned", "accepted", "contacted"}
    await referral.until(lambda: wanted <= {d["status"] for d in mine()})
    for url, body, headers in referral.poster.sent:
        if json.loads(body)["referral_id"] != rid:
            continue
        assert url == "https://partner.example/livewell"
        assert webhooks.verify(hook["secret"], headers[webhooks.H_TIMESTAMP], body,
                               headers[webhooks.H_SIGNATURE])
        assert not webhooks.verify("whsec_wrong", headers[webhooks.H_TIMESTAMP], body,
                                   headers[webhooks.H_SIGNATURE])
        assert headers["Idempotency-Key"] == headers[webhooks.H_DELIVERY]
        for private in ("Sam", "07911", "patrol"):
            assert private not in body.decode()


async def test_a_webhook_hears_the_very_next_change_after_it_is_registered(
    referral: Service,
) -> None:
    """The organisations with a webhook are kept for a few seconds; registering one here
    forgets them when the registration commits, so the next referral is announced."""
    org = key_headers(f"Late Org {uuid.uuid4()}")
    first = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                        headers=org)).json()["id"]  # read the orgs: none
    await _register(referral, org, "https://late.example/hook")
    second = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                         headers=org)).json()["id"]

    def deliveries() -> list[dict[str, str]]:
        return [json.loads(b) for url, b, _ in referral.poster.sent
                if url == "https://late.example/hook"]

    await referral.until(lambda: any(d["referral_id"] == second and d["event"] == "received"
                                     for d in deliveries()))
    # The first was received before the webhook existed (its later steps may be announced).
    assert not any(d["referral_id"] == first and d["event"] == "received" for d in deliveries())


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Fixed vector, so partners can check their own implementation against it.
    assert webhooks.sign("whsec_test", "1700000000", b'{"a":1}') == (
        "sha256=" + __import__("hmac").new(b"whsec_test", b'1700000000.{"a":1}',
                                           "sha256").hexdigest())


async def test_a_failing_receiver_is_retried_until_it_answers(referral: Service) -> None:
    org = key_headers(f"Retry Org {uuid.uuid4()}")
    await _register(referral, org, "https://retry.example/hook")
    referral.poster.status = 503
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=org)).json()["id"]

    def attempts() -> list[bytes]:
        return [b for _, b, _ in referral.poster.sent if json.loads(b)["referral_id"] == rid]

    await referral.until(lambda: len(attempts()) >= 1)
    referral.poster.status = 200
    await referral.advance(600)  # past any backoff
    await referral.until(lambda: len(attempts()) >= 2)


async def test_webhooks_are_per_organisation_and_https_only(referral: Service) -> None:
    org = key_headers(f"Other Org {uuid.uuid4()}")
    hook = await _register(referral, org, "https://other.example/hook")
    plain = await referral.client.post("/api/v1/webhooks", headers=org,
                                       json={"url": "http://other.example/hook"})
    assert plain.status_code == 422 and plain.json()["errors"][0]["loc"] == ["url"]
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    listed = (await referral.client.get("/api/v1/webhooks", headers=org)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert (await referral.client.delete(f"/api/v1/webhooks/{hook['id']}",
                                         headers=POLICE)).status_code == 404
    assert (await referral.client.delete(f"/api/v1/webhooks/{hook['id']}",
                                         headers=org)).status_code == 204
    assert all(url != "https://other.example/hook" or json.loads(b)["referral_id"] != rid
               for url, b, _ in referral.poster.sent)


def test_webhook_urls_must_be_public_https() -> None:
    assert webhooks.check_url("https://partner.example/hook") is None
    assert webhooks.check_url("https://8.8.8.8/hook") is None
    assert webhooks.check_url("https://203.0.113.9/hook") is not None  # documentation range
    for bad in ("http://partner.example/hook", "https://localhost/hook",
                "https://127.0.0.1:8001/internal", "https://169.254.169.254/latest",
                "https://10.0.0.5/hook", "https://user:pw@partner.example/hook",
                "https://[::1]/hook", "ftp://partner.example/", "https://127.1/hook",
                "https://2130706433/hook", "https://[64:ff9b::7f00:1]/hook",
                "https://intake:8001/internal/referrals", "https://kubernetes.default.svc/"):
        assert webhooks.check_url(bad) is not None, bad


async def test_registering_a_disguised_internal_address_is_refused(referral: Service) -> None:
    org = key_headers(f"Sneaky Org {uuid.uuid4()}")
    for url in ("https://127.1/hook", "https://0x7f000001/hook", "https://redis:6379/",
                "https://[::127.0.0.1]/hook", "https://localhost./hook"):
        resp = await referral.client.post("/api/v1/webhooks", headers=org, json={"url": url})
        assert resp.status_code == 422, (url, resp.text)
        assert resp.json()["errors"][0]["loc"] == ["url"]
    assert (await referral.client.get("/api/v1/webhooks", headers=org)).json() == []


async def test_a_delivery_whose_host_resolves_inside_is_a_dead_letter(referral: Service) -> None:
    """The name passes registration, then resolves to 127.0.0.1: nothing is dialled, and the
    delivery is kept as a dead letter with the refusal, not retried."""
    host = f"rebind-{uuid.uuid4().hex[:8]}.example"
    net = Network()
    poster = webhooks.AiohttpPoster(resolver=FakeDns({host: [["127.0.0.1"]]}),
                                    socket_factory=net.socket)
    deps.of(referral.harness.kit).poster = poster
    try:
        org = key_headers(f"Rebinding Org {uuid.uuid4()}")
        await _register(referral, org, f"https://{host}/hook")
        await referral.client.post("/api/v1/referrals", json=referral_body(), headers=org)

        async def dead() -> list[OutboxMessage]:
            async with referral.harness.kit.db.sessionmaker() as session:
                rows = list(await session.scalars(select(OutboxMessage).where(
                    OutboxMessage.target == webhooks.TARGET,
                    OutboxMessage.path == f"https://{host}/hook")))
            return rows if rows and all(r.dead_at is not None for r in rows) else []

        rows = await eventually(dead, timeout=10, interval=0.05,
                                what="the refused delivery to become a dead letter")
        assert all(r.attempts == 1 and r.last_error == f"http {webhooks.REFUSED}" for r in rows)
        assert net.dialled == []
    finally:
        await poster.close()
