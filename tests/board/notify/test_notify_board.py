"""Notify's board: open alerts with Acknowledge (who and when, kept on a repeat), handoffs
nobody answered with their escalation step; coordinators and admins only."""

from __future__ import annotations

from sqlalchemy import select

from services.common.ids import new_id
from services.notify.models import Alert, AuditEntry
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.notify.conftest import Expectations, NotifyHarness, mobile


async def an_alert(notify: NotifyHarness, kind: str = "nobody_fits") -> str:
    resp = await notify.client.post("/internal/alerts", json={
        "alert_key": f"test:{new_id()}", "kind": kind, "reference": "LW-7K3M-Q9XA",
        "urgency": "urgent"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["alert_id"])


async def test_an_acknowledged_alert_leaves_the_open_lane_saying_who_and_when(
    notify: NotifyHarness,
) -> None:
    alert_id = await an_alert(notify)
    board = await notify.client.get("/api/v1/desk/board", headers=signed_in("coordinator"))
    assert board.status_code == 200, board.text
    assert alert_id in [a["id"] for a in board.json()["alerts"]["items"]]
    path = f"/api/v1/desk/board/alerts/{alert_id}/acknowledge"
    first = await notify.client.post(path, headers=signed_in("coordinator", COORDINATOR))
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged_by"] == COORDINATOR
    again = await notify.client.post(path, headers=signed_in("admin", "acct-other"))
    assert again.json()["acknowledged_by"] == COORDINATOR
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    after = (await notify.client.get("/api/v1/desk/board",
                                     headers=signed_in("admin"))).json()
    assert alert_id not in [a["id"] for a in after["alerts"]["items"]]
    [done] = [a for a in after["acknowledged"] if a["id"] == alert_id]
    assert done["acknowledged_by"] == COORDINATOR
    async with notify.service.kit.db.sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
        audited = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "acknowledge", AuditEntry.entity_id == alert_id))).all()
    assert alert is not None and alert.acknowledged_by == COORDINATOR
    assert [a.actor_id for a in audited] == [COORDINATOR]


async def test_a_handoff_nobody_answered_shows_its_escalation_step(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker, keyworker_id="kw-board")
    await notify.settle()
    board = (await notify.client.get("/api/v1/desk/board",
                                     headers=signed_in("coordinator"))).json()
    [h] = [h for h in board["handoffs"]["items"] if h["reference"] == offered["reference"]]
    assert h["keyworker_id"] == "kw-board" and h["offer"] == 1
    assert h["last_step"] in ("sms", "delivered") and h["next_step"] == "call"
    assert board["handoffs"]["count"] >= 1 and board["handoffs"]["oldest_at"] is not None


async def test_key_workers_and_keys_get_403_and_change_nothing(notify: NotifyHarness) -> None:
    alert_id = await an_alert(notify)
    for headers in refused_everyone_but_coordinators():
        assert (await notify.client.get("/api/v1/desk/board",
                                        headers=headers)).status_code == 403
        ack = await notify.client.post(f"/api/v1/desk/board/alerts/{alert_id}/acknowledge",
                                       headers=headers)
        assert ack.status_code == 403
        assert ack.headers["content-type"].startswith("application/problem+json")
    async with notify.service.kit.db.sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
    assert alert is not None and alert.acknowledged_at is None


async def test_an_unknown_alert_is_a_404(notify: NotifyHarness) -> None:
    resp = await notify.client.post("/api/v1/desk/board/alerts/nope/acknowledge",
                                    headers=signed_in("coordinator"))
    assert resp.status_code == 404
