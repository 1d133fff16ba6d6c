from __future__ import annotations

from datetime import UTC, datetime

from tests.keyperson.factories import STAFF, assign, request, worker
from tests.support.service import ServiceHarness, key_headers

NOW = datetime.now(UTC)


async def test_staff_adds_a_key_worker_and_the_mobile_is_stored_in_e164(
    keyperson: ServiceHarness,
) -> None:
    body = {"name": "Ada Key", "phone": "07911 123456", "localities": ["south_west"],
            "teams": ["hub"], "skills": ["lang:pl"], "max_caseload": 20}
    resp = await keyperson.client.post("/api/v1/keyworkers", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["phone"] == "+447911123456"
    got = await keyperson.client.get(f"/api/v1/keyworkers/{created['id']}", headers=STAFF)
    assert got.json()["localities"] == ["south_west"]


async def test_a_bad_phone_is_a_problem_naming_the_field(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.post("/api/v1/keyworkers", headers=STAFF,
                                       json={"name": "X", "phone": "12"})
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["errors"][0]["loc"] == ["phone"]


async def test_a_partner_key_cannot_read_the_roster(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.get("/api/v1/keyworkers", headers=key_headers("Police"))
    assert resp.status_code == 403
    explain = await keyperson.client.post("/api/v1/assignments/explain",
                                          headers=key_headers("Police"),
                                          json={"locality": "north"})
    assert explain.status_code == 403


async def test_without_the_internal_token_a_service_refuses(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.get("/api/v1/keyworkers",
                                      headers={**STAFF, "x-internal-token": "wrong"})
    assert resp.status_code == 403


async def test_moving_a_worker_to_another_locality_changes_which_referrals_they_get(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c, teams=[])
    resp = await c.patch(f"/api/v1/keyworkers/{w['id']}", headers=STAFF,
                         json={"localities": ["north"], "max_caseload": 2, "email": None})
    assert resp.status_code == 200, resp.text
    assert resp.json()["localities"] == ["north"] and resp.json()["max_caseload"] == 2
    south = await assign(c, request(NOW, team=None))
    north = await assign(c, request(NOW, locality="north", team=None))
    assert south["keyworker_id"] is None and north["keyworker_id"] == w["id"]
    missing = await c.patch("/api/v1/keyworkers/nope", headers=STAFF, json={"name": "Y"})
    assert missing.status_code == 404


async def test_explain_ranks_candidates_with_reasons_and_changes_nothing(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    polish = await worker(c, skills=["lang:pl"], max_caseload=5)
    roomy = await worker(c, max_caseload=30)
    full = await worker(c, max_caseload=0)
    resp = await c.post("/api/v1/assignments/explain", headers=STAFF,
                        json={"locality": "south_west", "team": "hub", "skills": ["lang:pl"]})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["keyworker_id"] == polish["id"] and out["via"] == "ranking"
    assert [x["keyworker_id"] for x in out["candidates"]] == [polish["id"], roomy["id"]]
    assert out["candidates"][1]["skills_missing"] == ["lang:pl"]
    assert out["candidates"][1]["reasons"][2] == "lacks lang:pl"
    got = await c.get(f"/api/v1/keyworkers/{polish['id']}", headers=STAFF)
    assert got.json()["caseload"] == 0
    assert full["id"] not in [x["keyworker_id"] for x in out["candidates"]]
    assert out["excluded"] == {full["id"]: "at maximum caseload"}


async def test_notify_reads_a_workers_current_contact_details(keyperson: ServiceHarness) -> None:
    w = await worker(keyperson.client, email="kw@livingwell.example")
    got = await keyperson.client.get(f"/internal/keyworkers/{w['id']}")
    assert got.json() == {"id": w["id"], "phone": w["phone"], "email": "kw@livingwell.example",
                          "active": True}
    assert (await keyperson.client.get("/internal/keyworkers/nope")).status_code == 404
