"""SLA clocks: an alert at 75 % of the window, a recorded breach, and the staff lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.common.ids import new_reference
from services.referral.models import OutboxMessage
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, STAFF, referral_body
from tests.support.stack import eventually

HOUR = 3600.0


async def _outbox_row(referral: Service, key: str) -> OutboxMessage | None:
    async with referral.harness.kit.db.sessionmaker() as session:
        return (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == key))).one_or_none()


async def _until_delivered(referral: Service, key: str) -> None:
    async def delivered() -> bool:
        row = await _outbox_row(referral, key)
        return row is not None and row.delivered_at is not None

    await eventually(delivered, timeout=5, interval=0.02, what=f"timer {key} to run")


async def _sla_ids(referral: Service, state: str) -> set[str]:
    resp = await referral.client.get(f"/api/v1/sla/referrals?state={state}&limit=500",
                                     headers=STAFF)
    assert resp.status_code == 200, resp.text
    return {r["id"] for r in resp.json()}


def _alerts(referral: Service, rid: str, kind: str) -> list[dict[str, Any]]:
    return [p for p in referral.neighbours.to("/internal/alerts", rid) if p["kind"] == kind]


async def test_an_urgent_referral_alerts_at_18h_and_is_breached_at_24h(
    referral: Service,
) -> None:
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    rid = created["id"]
    await referral.advance(17 * HOUR)
    await referral.until(lambda: referral.neighbours.to("/internal/assignments", rid))
    assert _alerts(referral, rid, "sla_at_risk") == []
    assert rid not in await _sla_ids(referral, "at_risk")

    await referral.advance(1.1 * HOUR)
    [alert] = await referral.until(lambda: _alerts(referral, rid, "sla_at_risk"))
    assert alert == {"alert_key": f"sla_at_risk:{rid}", "kind": "sla_at_risk",
                     "reference": created["reference"], "referral_id": rid,
                     "urgency": "urgent", "respond_by": alert["respond_by"]}
    assert datetime.fromisoformat(alert["respond_by"]) == datetime.fromisoformat(
        created["respond_by"])
    assert rid in await _sla_ids(referral, "at_risk")
    assert rid not in await _sla_ids(referral, "overdue")

    await referral.advance(6 * HOUR)
    await referral.until(lambda: _alerts(referral, rid, "sla_breached"))
    assert rid in await _sla_ids(referral, "overdue")
    [item] = [r for r in (await referral.client.get(
        "/api/v1/sla/referrals?state=overdue&limit=500", headers=STAFF)).json() if r["id"] == rid]
    assert item["breached_at"] and item["sla_alerted_at"]


async def test_an_accepted_referral_raises_no_alert(referral: Service) -> None:
    rid = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                      headers=POLICE)).json()["id"]
    resp = await referral.client.post(f"/internal/referrals/{rid}/events", json={
        "event": "accepted", "at": datetime.now(UTC).isoformat(), "keyworker_id": "kw-9"})
    assert resp.json()["status"] == "accepted"
    await referral.advance(25 * HOUR)
    for timer in ("sla_at_risk", "sla_breach"):
        await _until_delivered(referral, f"{timer}:{rid}")
    assert await _outbox_row(referral, f"alert:sla_at_risk:{rid}") is None
    assert _alerts(referral, rid, "sla_at_risk") == _alerts(referral, rid, "sla_breached") == []
    assert rid not in await _sla_ids(referral, "overdue")


async def test_an_emergency_alerts_the_crisis_route_at_once(referral: Service) -> None:
    body = referral_body(risk={"immediate_danger": True}, urgency="routine")
    created = (await referral.client.post("/api/v1/referrals", json=body, headers=POLICE)).json()
    assert (created["urgency"], created["team"]) == ("emergency", "crisis_duty")
    [alert] = await referral.until(lambda: _alerts(referral, created["id"], "crisis"))
    assert alert["reference"] == created["reference"]


async def test_a_partner_key_cannot_list_overdue_referrals(referral: Service) -> None:
    resp = await referral.client.get("/api/v1/sla/referrals", headers=POLICE)
    assert resp.status_code == 403


async def test_an_emergency_self_referral_is_not_alerted_twice(referral: Service) -> None:
    reference = new_reference()
    answer = (await referral.client.post("/internal/referrals", json={
        "reference": reference, "source": "voice", "contact_id": "c-crisis", "person_id": None,
        "reason": "crisis call", "risk": {"immediate_danger": True}, "urgency": "emergency",
        "postcode": None, "needs": []})).json()
    assert answer["team"] == "crisis_duty"
    await _until_delivered(referral, f"assign:{answer['referral_id']}")
    assert await _outbox_row(referral, f"alert:crisis:{answer['referral_id']}") is None
