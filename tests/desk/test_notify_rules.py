"""Notify's role rules for people signed in: a key worker sees and answers only their own
offers; the web accept has the same effect and idempotency as the SMS reply."""

from __future__ import annotations

from services.common.context import H_ACTOR_KIND, H_KEYWORKER_ID, H_PERSON_ID, H_PERSON_ROLE
from tests.notify.conftest import Expectations, NotifyHarness, mobile
from tests.support.service import key_headers


def person(keyworker_id: str | None, role: str = "key_worker") -> dict[str, str]:
    return {H_ACTOR_KIND: "person", H_PERSON_ID: f"acct-{keyworker_id or role}",
            H_PERSON_ROLE: role, H_KEYWORKER_ID: keyworker_id or ""}


async def test_a_key_worker_sees_their_offer_and_not_anothers(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker, keyworker_id="kw-mine")
    await notify.settle()
    ref = offered["reference"]
    mine = await notify.client.get(f"/api/v1/desk/handoffs/{ref}", headers=person("kw-mine"))
    assert mine.status_code == 200, mine.text
    assert mine.json()["can_decide"] is True and mine.json()["urgency"] == "urgent"
    listed = await notify.client.get("/api/v1/desk/handoffs", headers=person("kw-mine"))
    assert [h["reference"] for h in listed.json()] == [ref]
    other = await notify.client.get(f"/api/v1/desk/handoffs/{ref}", headers=person("kw-other"))
    assert other.status_code == 404
    assert (await notify.client.get("/api/v1/desk/handoffs",
                                    headers=person("kw-other"))).json() == []
    coordinator = await notify.client.get(f"/api/v1/desk/handoffs/{ref}",
                                          headers=person(None, "coordinator"))
    assert coordinator.status_code == 200 and coordinator.json()["can_decide"] is False
    refused = await notify.client.post(f"/api/v1/desk/handoffs/{ref}/decision",
                                       json={"decision": "accept"},
                                       headers=person("kw-other"))
    assert refused.status_code == 404
    assert (await notify.handoff(offered["handoff_id"])).status == "open"


async def test_keys_reach_none_of_the_desk_handoffs(notify: NotifyHarness) -> None:
    for role in ("partner", "staff", "admin"):
        resp = await notify.client.get("/api/v1/desk/handoffs",
                                       headers=key_headers("Lambeth Police", role))
        assert resp.status_code == 403


async def test_accepting_on_the_web_is_the_sms_accept_and_a_repeat_changes_nothing(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker, keyworker_id="kw-web")
    await notify.settle()
    ref, path = offered["reference"], f"/api/v1/desk/handoffs/{offered['reference']}/decision"
    first = await notify.client.post(path, json={"decision": "accept"}, headers=person("kw-web"))
    assert first.json() == {"result": "accepted"}
    again = await notify.client.post(path, json={"decision": "accept"}, headers=person("kw-web"))
    assert again.json() == {"result": "already_accepted"}
    h = await notify.handoff(offered["handoff_id"])
    assert h.status == "accepted"
    sms = await notify.client.post("/internal/replies",
                                   json={"from": worker, "body": f"ACCEPT {h.reply_code}"})
    assert "already" in sms.json()["reply"].lower()
    await notify.settle()
    # Referral and keyperson are told once, as for an SMS accept.
    told = [p for p in notify.peers.to(f"/internal/referrals/{offered['referral_id']}/events")
            if p.get("event") == "accepted"]
    assert len(told) == 1
    view = await notify.client.get(f"/api/v1/desk/handoffs/{ref}", headers=person("kw-web"))
    assert view.json()["accepted_by_me"] is True and view.json()["can_decide"] is False


async def test_a_bad_decision_is_a_422_naming_the_field(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker, keyworker_id="kw-bad")
    await notify.settle()
    resp = await notify.client.post(
        f"/api/v1/desk/handoffs/{offered['reference']}/decision", json={"decision": "maybe"},
        headers=person("kw-bad"))
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "decision" in resp.text
    assert (await notify.handoff(offered["handoff_id"])).status == "open"
