"""Who may do what: keys, organisations, signatures and the internal surface, checked against
the running system from the outside."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from tests.security.conftest import issue_keys, referral, revoke_key, sms_params, voice_params
from tests.support.stack import INTERNAL_TOKEN, SERVICES, Stack, eventually

pytestmark = pytest.mark.e2e

KEYED_PATHS = [("GET", "/api/v1/referrals"), ("POST", "/api/v1/referrals"),
               ("GET", "/api/v1/keyworkers"), ("GET", "/fhir/ServiceRequest/x"),
               ("GET", "/api/v1/rota/on-duty"), ("GET", "/api/v1/handoffs"),
               ("GET", "/api/v1/people")]


ORGS = [("Access Police", "partner"), ("Access Housing", "partner"),
        ("Access Admin", "admin"), ("Access Hub", "staff")]


async def test_the_api_refuses_a_missing_or_malformed_key(stack: Stack) -> None:
    await issue_keys(stack, *ORGS)
    real = stack.key("Access Police")
    prefix = real.split("_")[1]
    bad = ["", "Bearer", "Bearer lw", "Bearer lw__", "Bearer lw_x_y",
           f"Bearer lw_{prefix}_{'A' * 43}", f"Bearer {real}x", f"Bearer {real[:-1]}",
           f"Basic {base64.b64encode(real.encode()).decode()}", f"Token {real}",
           "Bearer " + "A" * 5000, "Bearer lw_' OR 1=1 --_aaaaaaaaaaaaaaaaaaaaaa"]
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        for method, path in KEYED_PATHS:
            for header in bad:
                headers = {"Authorization": header} if header else {}
                resp = await http.request(method, path, headers=headers, json={})
                assert resp.status_code == 401, (method, path, header[:30], resp.text)
                # A FHIR client gets the refusal as an OperationOutcome, everyone else problem+json
                expected = ("application/fhir+json" if path.startswith("/fhir")
                            else "application/problem+json")
                assert resp.headers["content-type"].startswith(expected)
                assert resp.headers.get("www-authenticate") == "Bearer"


async def test_a_revoked_key_stops_working_within_seconds(stack: Stack) -> None:
    org = f"Revoked Partner {uuid.uuid4().hex[:6]}"
    await issue_keys(stack, (org, "partner"))
    auth = stack.auth(org)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        assert (await http.get("/api/v1/referrals", headers=auth)).status_code == 200
        await revoke_key(stack, org)

        async def refused() -> bool:
            return (await http.get("/api/v1/referrals", headers=auth)).status_code == 401

        await eventually(refused, timeout=15, interval=0.5, what="the revoked key to be refused")
        created = await http.post("/api/v1/referrals", headers=auth, json=referral())
        assert created.status_code == 401


async def test_a_partner_key_cannot_use_staff_endpoints(stack: Stack) -> None:
    await issue_keys(stack, *ORGS)
    partner = stack.auth("Access Police")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        worker = await http.post("/api/v1/keyworkers", headers=partner, json={
            "name": "Not Allowed", "phone": "07911 123456", "localities": ["north"],
            "teams": ["hub"], "skills": [], "max_caseload": 5})
        assert worker.status_code == 403, worker.text
        assert (await http.get("/api/v1/keyworkers", headers=partner)).status_code == 403
        assert (await http.get("/api/v1/rota/on-duty", headers=partner)).status_code == 403


async def test_a_partner_never_sees_another_organisations_referral(stack: Stack) -> None:
    await issue_keys(stack, *ORGS)
    police, housing = stack.auth("Access Police"), stack.auth("Access Housing")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        created = await http.post("/api/v1/referrals", headers=police,
                                  json=referral(external_reference="ACCESS-1"))
        assert created.status_code == 201, created.text
        ref = created.json()
        own = await http.get(f"/api/v1/referrals/{ref['id']}", headers=police)
        assert own.status_code == 200
        theirs = await http.get(f"/api/v1/referrals/{ref['id']}", headers=housing)
        assert theirs.status_code == 404
        assert theirs.headers["content-type"].startswith("application/problem+json")
        unknown = await http.get(f"/api/v1/referrals/{uuid.uuid4()}", headers=housing)
        assert unknown.status_code == 404
        assert theirs.json()["detail"] == unknown.json()["detail"], "a 404 must not tell apart"
        listed = await http.get("/api/v1/referrals", headers=housing)
        assert listed.status_code == 200
        assert ref["id"] not in listed.text and ref["reference"] not in listed.text
        fhir = await http.get(f"/fhir/ServiceRequest/{ref['id']}", headers=housing)
        assert fhir.status_code == 404
        # The same idempotency key from another organisation is a different referral.
        idem = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
        first = await http.post("/api/v1/referrals", headers={**police, **idem}, json=referral())
        second = await http.post("/api/v1/referrals", headers={**housing, **idem},
                                 json=referral())
        assert first.status_code == 201 and second.status_code == 201
        assert first.json()["id"] != second.json()["id"]


async def test_a_replayed_webhook_with_one_parameter_changed_is_refused(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        call = voice_params(stack)
        signature = stack.sign("/twilio/voice", call)
        assert (await http.post("/twilio/voice", data=call, headers=signature)).status_code == 200
        for name, value in (("From", "+447700900999"), ("CallSid", "CA" + "0" * 32),
                            ("To", "+442000000001")):
            changed = {**call, name: value}
            resp = await http.post("/twilio/voice", data=changed, headers=signature)
            assert resp.status_code == 403, name
        added = await http.post("/twilio/voice", data={**call, "Digits": "1"},
                                headers=signature)
        assert added.status_code == 403
        moved = await http.post("/twilio/voice/menu", data=call, headers=signature)
        assert moved.status_code == 403, "a signature is for one URL only"
        text = sms_params(stack, "hello")
        sms_sig = stack.sign("/twilio/sms", text)
        tampered = await http.post("/twilio/sms", data={**text, "Body": "hello!"},
                                   headers=sms_sig)
        assert tampered.status_code == 403
        wrong_token = {"X-Twilio-Signature": base64.b64encode(b"x" * 20).decode()}
        assert (await http.post("/twilio/sms", data=text, headers=wrong_token)).status_code == 403


INTERNAL = ["/internal/people/resolve", "/internal/assignments", "/internal/handoffs",
            "/internal/referrals", "/internal/replies", "/internal/alerts",
            "/internal/clock/advance", "/internal/rota/on-duty"]
PROBES = ["{p}", "/api/v1/..{p}", "/api/v1/%2e%2e{p}", "//{q}", "/%69nternal/{r}",
          "/api/v1/referrals/..{p}", "/fhir/..{p}", "/twilio/voice/../..{p}"]


async def test_internal_endpoints_are_not_reachable_through_the_gateway(stack: Stack) -> None:
    await issue_keys(stack, *ORGS)
    admin = stack.auth("Access Admin", "admin")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        for path in INTERNAL:
            for probe in PROBES:
                url = probe.format(p=path, q=path.lstrip("/"), r=path.split("/", 2)[2])
                for method in ("GET", "POST"):
                    resp = await http.request(
                        method, url, json={},
                        headers={**admin, "X-Internal-Token": INTERNAL_TOKEN})
                    # 400: the gateway refuses dot segments and encoded ones before routing.
                    assert resp.status_code in (400, 401, 403, 404), (method, url,
                                                                      resp.status_code)
                    assert resp.status_code != 200


async def test_services_refuse_callers_without_the_internal_token(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=15) as http:
        for name in SERVICES:
            base = stack.service_url(name)
            for path in [*INTERNAL, "/api/v1/referrals", "/api/v1/keyworkers", "/twilio/voice"]:
                for headers in ({}, {"X-Internal-Token": "wrong"},
                                {"X-Internal-Token": INTERNAL_TOKEN[:-1]},
                                {"X-Livewell-Actor-Kind": "key", "X-Livewell-Role": "admin",
                                 "X-Livewell-Org": "Forged"}):
                    resp = await http.post(base + path, json={}, headers=headers)
                    assert resp.status_code == 403, (name, path, headers, resp.status_code)
            health = await http.get(base + "/healthz")
            assert health.status_code == 200, "liveness stays open for the supervisor"
