"""The contract's partner API: create, validate, idempotency, read and list own referrals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.referral.models import AuditEntry, Referral
from tests.referral.conftest import Referral as Service
from tests.referral.factories import HOUSING, POLICE, STAFF, referral_body, subject
from tests.support.service import key_headers

CONTRACT_KEYS = {"id", "reference", "status", "urgency", "respond_by", "locality", "team",
                 "created_at"}


async def test_police_referral_in_SW2_goes_to_south_west_within_24h(referral: Service) -> None:
    resp = await referral.client.post("/api/v1/referrals", json=referral_body(), headers=POLICE)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == CONTRACT_KEYS
    assert body["reference"].startswith("LW-") and body["status"] == "received"
    assert (body["urgency"], body["locality"], body["team"]) == (
        "urgent", "south_west", "living_well_network")
    created = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["respond_by"]) - created == timedelta(hours=24)


async def test_a_bad_phone_is_a_problem_naming_subject_phone(referral: Service) -> None:
    resp = await referral.client.post(
        "/api/v1/referrals", headers=POLICE,
        json=referral_body(subject=subject(phone="12", preferred_language="en GB"),
                           urgency="soon", needs=["gardening"]))
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    locs = [e["loc"] for e in resp.json()["errors"]]
    assert ["subject", "phone"] in locs and ["subject", "preferred_language"] in locs
    assert ["urgency"] in locs and ["needs", 0] in locs
    # The rejected input is not echoed (the messages may quote examples such as 07911 123456).
    assert '"12"' not in resp.text and "en GB" not in resp.text and '"input"' not in resp.text


async def test_a_wrong_nhs_check_digit_is_refused(referral: Service) -> None:
    resp = await referral.client.post("/api/v1/referrals", headers=POLICE,
                                      json=referral_body(subject=subject(nhs_number="9434765918")))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["subject", "nhs_number"]


async def test_a_person_with_no_way_to_reach_them_is_refused(referral: Service) -> None:
    resp = await referral.client.post(
        "/api/v1/referrals", headers=POLICE,
        json=referral_body(subject={"given_name": "Sam", "postcode": "SW2 1AA"}))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["subject"]
    assert "way to reach" in resp.json()["errors"][0]["msg"]
    by_post = referral_body(subject={"address": "1 Example Road", "postcode": "SW2 1AA"})
    ok = await referral.client.post("/api/v1/referrals", headers=POLICE, json=by_post)
    assert ok.status_code == 201, ok.text


async def test_the_same_idempotency_key_and_body_gives_the_same_referral(
    referral: Service,
) -> None:
    headers = {**POLICE, "Idempotency-Key": str(uuid.uuid4())}
    first = await referral.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    again = await referral.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()


async def test_the_same_key_with_another_body_is_a_422_that_says_so(referral: Service) -> None:
    headers = {**POLICE, "Idempotency-Key": str(uuid.uuid4())}
    await referral.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    other = await referral.client.post("/api/v1/referrals", headers=headers,
                                       json=referral_body(reason="Someone else entirely"))
    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]


async def test_the_same_key_from_another_organisation_is_another_referral(
    referral: Service,
) -> None:
    key = str(uuid.uuid4())
    a = await referral.client.post("/api/v1/referrals", json=referral_body(),
                                   headers={**POLICE, "Idempotency-Key": key})
    b = await referral.client.post("/api/v1/referrals", json=referral_body(),
                                   headers={**HOUSING, "Idempotency-Key": key})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


async def test_concurrent_duplicates_make_one_referral_and_equal_answers(
    referral: Service,
) -> None:
    org = f"Concurrent Org {uuid.uuid4()}"
    headers = {**key_headers(org), "Idempotency-Key": "retry-storm"}
    answers = await asyncio.gather(*(
        referral.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
        for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert all(a.json() == answers[0].json() for a in answers)
    async with referral.harness.kit.db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Referral)
                                     .where(Referral.org == org))
    assert count == 1


async def test_another_organisations_referral_is_a_404(referral: Service) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    mine = await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=POLICE)
    theirs = await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=HOUSING)
    assert mine.status_code == 200 and theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    listed = (await referral.client.get("/api/v1/referrals", headers=HOUSING)).json()
    assert created["id"] not in {r["id"] for r in listed["items"]}


async def test_a_partner_sees_status_and_times_never_the_person_or_notes(
    referral: Service,
) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    await referral.client.post(f"/api/v1/referrals/{created['id']}/information", headers=POLICE,
                               json={"text": "Has a dog called Biscuit."})
    got = (await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=POLICE)).json()
    text = str(got)
    for secret in ("Sam", "07911", "9434765919", "Biscuit", "patrol", "SW2 1AA"):
        assert secret not in text
    events = [e["event"] for e in got["timeline"]]
    assert events[0] == "received" and "information_added" in events
    assert got["external_reference"] == "CAD-1234"


async def test_list_pages_and_filters_own_referrals(referral: Service) -> None:
    org = key_headers(f"Paging Org {uuid.uuid4()}")
    ids = [(await referral.client.post("/api/v1/referrals", json=referral_body(),
                                       headers=org)).json()["id"] for _ in range(3)]
    first = (await referral.client.get("/api/v1/referrals?limit=2", headers=org)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await referral.client.get(f"/api/v1/referrals?limit=2&cursor={first['next_cursor']}",
                                      headers=org)).json()
    assert rest["next_cursor"] is None
    assert {r["id"] for r in first["items"] + rest["items"]} == set(ids)
    closed = await referral.client.get("/api/v1/referrals?status=closed", headers=org)
    assert closed.json()["items"] == []
    future = await referral.client.get("/api/v1/referrals", headers=org,
                                       params={"since": "2999-01-01T00:00:00Z"})
    assert future.json()["items"] == []


async def test_withdrawal_closes_with_the_reason_kept_and_then_refuses_more(
    referral: Service,
) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    path = f"/api/v1/referrals/{created['id']}"
    gone = await referral.client.post(f"{path}/withdraw", headers=POLICE,
                                      json={"reason": "Person moved out of London"})
    assert gone.status_code == 200, gone.text
    assert (gone.json()["status"], gone.json()["outcome"]) == ("closed", "withdrawn")
    again = await referral.client.post(f"{path}/information", headers=POLICE, json={"text": "x"})
    assert again.status_code == 409


async def test_every_read_and_change_is_audited_with_ids_only(referral: Service) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=POLICE)
    await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=STAFF)
    async with referral.harness.kit.db.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == created["id"]).order_by(AuditEntry.id))).all()
    assert [(r.action, r.actor_role) for r in rows] == [
        ("create", "partner"), ("read", "partner"), ("read", "staff")]
