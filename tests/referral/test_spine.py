"""The outbox chain: intake resolves the person, keyperson is asked, events move the status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.http import ServiceResponse
from services.common.ids import new_reference
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, STAFF, referral_body, subject


def _resolved(payload: dict[str, Any]) -> ServiceResponse:
    return ServiceResponse(200, {"person_id": f"person-of-{payload['referral_id']}",
                                 "match": "new"}, {})


async def test_intake_resolves_the_person_then_keyperson_is_asked_for_a_worker(
    referral: Service,
) -> None:
    referral.neighbours.answers["/internal/people/resolve"] = _resolved
    body = referral_body(subject=subject(preferred_language="pl-PL"))
    created = (await referral.client.post("/api/v1/referrals", json=body,
                                          headers=POLICE)).json()
    rid = created["id"]
    [resolve] = await referral.until(
        lambda: referral.neighbours.to("/internal/people/resolve", rid))
    assert resolve["reference"] == created["reference"]
    assert resolve["subject"]["phone"] == "+447911123456"
    assert resolve["subject"]["nhs_number"] == "9434765919"
    [assign] = await referral.until(lambda: referral.neighbours.to("/internal/assignments", rid))
    assert assign == {"referral_id": rid, "reference": created["reference"],
                      "person_id": f"person-of-{rid}", "locality": "south_west",
                      "team": "living_well_network", "urgency": "urgent",
                      "respond_by": assign["respond_by"], "skills": ["lang:pl"]}
    assert datetime.fromisoformat(assign["respond_by"]) == datetime.fromisoformat(
        created["respond_by"])
    got = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert got["status"] == "routed"


async def test_statuses_move_forward_only_and_the_timeline_keeps_every_event(
    referral: Service,
) -> None:
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    t0 = datetime.now(UTC)

    async def event(name: str, minutes: int, key: str) -> dict[str, Any]:
        resp = await referral.client.post(
            f"/internal/referrals/{rid}/events", headers={"Idempotency-Key": key},
            json={"event": name, "at": (t0 + timedelta(minutes=minutes)).isoformat(),
                  "keyworker_id": "kw-1"})
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    assert (await event("assigned", 1, "k1"))["status"] == "assigned"
    assert (await event("accepted", 3, "k2"))["status"] == "accepted"
    late = await event("declined", 2, "k3")  # arrives after the accept it preceded
    assert (late["status"], late["applied"]) == ("accepted", False)
    again = await event("accepted", 3, "k2")  # a redelivery is answered from the inbox
    assert again == {"referral_id": rid, "status": "accepted", "applied": True}
    assert (await event("contacted", 10, "k4"))["status"] == "contacted"
    got = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    events = [e["event"] for e in got["timeline"] if e["event"] != "routed"]
    assert events == ["received", "assigned", "declined", "accepted", "contacted"]
    assert got["status"] == "contacted" and got["accepted_at"]


async def test_a_later_decline_and_reassignment_move_within_the_same_step(
    referral: Service,
) -> None:
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    t0 = datetime.now(UTC)
    for n, name in enumerate(("assigned", "declined", "reassigned")):
        resp = await referral.client.post(f"/internal/referrals/{rid}/events", json={
            "event": name, "at": (t0 + timedelta(minutes=n)).isoformat()})
        assert resp.json()["status"] == name


async def test_an_event_for_an_unknown_referral_is_a_404(referral: Service) -> None:
    resp = await referral.client.post("/internal/referrals/nope/events", json={
        "event": "assigned", "at": datetime.now(UTC).isoformat()})
    assert resp.status_code == 404


async def test_a_self_referral_is_routed_and_goes_straight_to_assignment(
    referral: Service,
) -> None:
    reference = new_reference()
    body = {"reference": reference, "source": "sms", "contact_id": "c-1", "person_id": "p-1",
            "reason": "texted at night", "risk": {"self_harm": True, "unknown_flag": True},
            "urgency": "routine", "postcode": "SE27 9AA", "needs": ["isolation", "pets"]}
    first = await referral.client.post("/internal/referrals", json=body,
                                       headers={"Idempotency-Key": f"self:{reference}"})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["reference"], answer["urgency"], answer["locality"], answer["team"]) == (
        reference, "very_urgent", "south_east", "living_well_network")
    again = await referral.client.post("/internal/referrals", json=body,
                                       headers={"Idempotency-Key": f"self:{reference}"})
    assert again.json() == answer
    rid = answer["referral_id"]
    [assign] = await referral.until(lambda: referral.neighbours.to("/internal/assignments", rid))
    assert assign["person_id"] == "p-1" and assign["urgency"] == "very_urgent"
    assert referral.neighbours.to("/internal/people/resolve", rid) == []


async def test_staff_record_contact_and_closure_and_the_referrer_sees_them(
    referral: Service,
) -> None:
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    denied = await referral.client.post(f"/api/v1/referrals/{rid}/events", headers=POLICE,
                                        json={"event": "closed"})
    assert denied.status_code == 403
    for event in ("contacted", "closed"):
        resp = await referral.client.post(f"/api/v1/referrals/{rid}/events", headers=STAFF,
                                          json={"event": event, "outcome": "supported"})
        assert resp.status_code == 200, resp.text
    got = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert (got["status"], got["outcome"]) == ("closed", "supported")
    steps = [e["event"] for e in got["timeline"] if e["event"] != "routed"]
    assert steps == ["received", "contacted", "closed"]
