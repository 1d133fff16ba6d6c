"""The partner API does what its documentation says: the timeline's steps, the list's filters,
the Idempotency-Key, strict risk flags and errors that say what is wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.referral.models import Referral
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, referral_body
from tests.support.service import key_headers


async def _count(referral: Service) -> int:
    async for session in referral.harness.kit.db.session():
        return int((await session.scalar(select(func.count()).select_from(Referral))) or 0)
    raise AssertionError("no session")


async def test_a_first_key_worker_found_on_a_retry_shows_as_the_assigned_step(
    referral: Service,
) -> None:
    """Keyperson announces a key worker found after nobody fitted (a retry, a new shift) as
    `reassigned`; the partner was never told of an earlier one, so it is their `assigned`."""
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    resp = await referral.client.post(
        f"/internal/referrals/{rid}/events", headers={"Idempotency-Key": f"event:{rid}:2"},
        json={"event": "reassigned", "at": datetime.now(UTC).isoformat(),
              "keyworker_id": "kw-1"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "assigned"
    got = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert [e["event"] for e in got["timeline"] if e["event"] != "routed"] == [
        "received", "assigned"]
    assert got["status"] == "assigned"


async def test_a_reassignment_after_an_assignment_stays_a_reassignment(
    referral: Service,
) -> None:
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    t0 = datetime.now(UTC)
    for n, name in enumerate(("assigned", "declined", "reassigned")):
        await referral.client.post(f"/internal/referrals/{rid}/events", json={
            "event": name, "at": (t0 + timedelta(minutes=n)).isoformat()})
    got = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert [e["event"] for e in got["timeline"] if e["event"] != "routed"] == [
        "received", "assigned", "declined", "reassigned"]


async def test_the_list_filters_by_reference_and_external_reference(referral: Service) -> None:
    org = key_headers(f"Filter Org {uuid.uuid4()}")
    made = [(await referral.client.post(
        "/api/v1/referrals", headers=org,
        json=referral_body(external_reference=f"CAD-{n}"))).json() for n in range(3)]
    by_ref = await referral.client.get("/api/v1/referrals", headers=org,
                                       params={"reference": made[1]["reference"]})
    assert by_ref.status_code == 200, by_ref.text
    assert [r["id"] for r in by_ref.json()["items"]] == [made[1]["id"]]
    by_theirs = await referral.client.get("/api/v1/referrals", headers=org,
                                          params={"external_reference": "CAD-2"})
    assert [r["id"] for r in by_theirs.json()["items"]] == [made[2]["id"]]
    await referral.client.post(f"/api/v1/referrals/{made[0]['id']}/withdraw", headers=org,
                               json={"reason": "Moved away."})
    closed = await referral.client.get("/api/v1/referrals", headers=org,
                                       params={"status": "closed", "external_reference": "CAD-0"})
    assert [r["id"] for r in closed.json()["items"]] == [made[0]["id"]]
    # Someone else's reference finds nothing: the filter never widens what a key sees.
    other = await referral.client.get("/api/v1/referrals", headers=POLICE,
                                      params={"reference": made[1]["reference"]})
    assert other.json()["items"] == []


@pytest.mark.parametrize("params", [{"referenc": "LW-AAAA-BBBB"}, {"state": "open"}])
async def test_an_unknown_list_parameter_is_a_422_naming_it(
    referral: Service, params: dict[str, str],
) -> None:
    resp = await referral.client.get("/api/v1/referrals", headers=POLICE, params=params)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    [name] = params
    errors = resp.json()["errors"]
    assert [e["loc"] for e in errors] == [["query", name]]
    assert "reference" in errors[0]["msg"]  # it lists the filters there are


@pytest.mark.parametrize("key", ["", "   "])
async def test_an_empty_idempotency_key_is_a_400_naming_the_header(
    referral: Service, key: str,
) -> None:
    before = await _count(referral)
    for path, extra in (("/api/v1/referrals", {}),
                        ("/fhir/ServiceRequest", {"content-type": "application/fhir+json"})):
        resp = await referral.client.post(path, json=referral_body(),
                                          headers={**POLICE, **extra, "Idempotency-Key": key})
        assert resp.status_code == 400, resp.text
        assert "Idempotency-Key" in resp.text
    resp = await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers={**POLICE, "Idempotency-Key": key})
    assert resp.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await _count(referral) == before


@pytest.mark.parametrize("value", ["yes", "true", 1, "1", None])
async def test_risk_flags_are_strict_booleans(referral: Service, value: object) -> None:
    before = await _count(referral)
    body = referral_body(risk={"self_harm": value})
    resp = await referral.client.post("/api/v1/referrals", json=body, headers=POLICE)
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["loc"] == ["risk", "self_harm"]
    assert "risk.self_harm" in resp.json()["detail"]
    assert await _count(referral) == before


async def test_malformed_json_says_where_it_is_broken(referral: Service) -> None:
    resp = await referral.client.post("/api/v1/referrals", content=b'{"subject": ,}',
                                      headers={**POLICE, "content-type": "application/json"})
    assert resp.status_code == 422
    problem = resp.json()
    assert problem["errors"][0]["loc"] == ["body"]
    assert problem["detail"].startswith("The body is not valid JSON: ")
    assert "line 1 column 13" in problem["detail"]
    assert "Check these fields" not in problem["detail"]
    two_lines = await referral.client.post(
        "/api/v1/referrals", content=b'{"reason": "x",\n "subject": {"phone": 0791}}',
        headers={**POLICE, "content-type": "application/json"})
    assert "line 2 column" in two_lines.json()["detail"]
