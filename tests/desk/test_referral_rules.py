"""Referral's role rules for people signed in: a key worker reads and changes only referrals
they accepted (another's is a 404), coordinators read all, keys reach none of it; every read
is audited; the first "reached" makes the referral `contacted` for the referrer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.common.context import H_ACTOR_KIND, H_KEYWORKER_ID, H_PERSON_ID, H_PERSON_ROLE
from services.referral.models import AuditEntry
from tests.referral.conftest import Referral as Service
from tests.referral.factories import POLICE, STAFF, referral_body
from tests.referral.test_spine import _resolved
from tests.support.service import key_headers


def person(keyworker_id: str | None, role: str = "key_worker") -> dict[str, str]:
    return {H_ACTOR_KIND: "person", H_PERSON_ID: f"acct-{keyworker_id or role}",
            H_PERSON_ROLE: role, H_KEYWORKER_ID: keyworker_id or ""}


async def accepted_by(referral: Service, keyworker_id: str, **body: Any) -> dict[str, Any]:
    """A police referral, accepted by `keyworker_id` (as notify reports it)."""
    referral.neighbours.answers["/internal/people/resolve"] = _resolved
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(**body),
                                          headers=POLICE)).json()
    await referral.until(lambda: referral.neighbours.to("/internal/assignments", created["id"]))
    resp = await referral.client.post(
        f"/internal/referrals/{created['id']}/events",
        json={"event": "accepted", "at": datetime.now(UTC).isoformat(),
              "keyworker_id": keyworker_id})
    assert resp.status_code == 200, resp.text
    return dict(created)


async def test_the_key_worker_who_accepted_reads_it_in_full_and_the_read_is_audited(
    referral: Service,
) -> None:
    created = await accepted_by(referral, "kw-1")
    resp = await referral.client.get(f"/api/v1/desk/referrals/{created['reference']}",
                                     headers=person("kw-1"))
    assert resp.status_code == 200, resp.text
    r = resp.json()
    assert r["subject"]["given_name"] == "Sam" and r["subject"]["phone"]
    assert r["reason"] and r["needs"] == ["housing"] and r["referrer"]["name"] == "PC Example"
    assert r["can_act"] is True
    assert {o["code"] for o in r["outcomes"]} >= {"supported", "signposted", "not_reached"}
    async with referral.harness.kit.db.sessionmaker() as s:
        reads = (await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "read_full"))).all()
    assert [(a.actor_kind, a.actor_id, a.actor_role) for a in reads][-1] == (
        "person", "acct-kw-1", "key_worker")


async def test_another_key_worker_gets_a_404_and_keys_get_nothing(referral: Service) -> None:
    created = await accepted_by(referral, "kw-1")
    ref = created["reference"]
    assert (await referral.client.get(f"/api/v1/desk/referrals/{ref}",
                                      headers=person("kw-2"))).status_code == 404
    assert (await referral.client.post(f"/api/v1/desk/referrals/{ref}/attempts",
                                       json={"result": "reached"},
                                       headers=person("kw-2"))).status_code == 404
    assert (await referral.client.get("/api/v1/desk/people",
                                      headers=person("kw-2"))).json() == []
    for headers in (POLICE, STAFF, key_headers("Living Well Hub", "admin")):
        assert (await referral.client.get(f"/api/v1/desk/referrals/{ref}",
                                          headers=headers)).status_code == 403
    partner = await referral.client.get(f"/api/v1/referrals/{created['id']}", headers=POLICE)
    assert "subject" not in partner.json() and "notes" not in partner.json()


async def test_a_coordinator_reads_all_and_a_key_worker_not_before_accepting(
    referral: Service,
) -> None:
    referral.neighbours.answers["/internal/people/resolve"] = _resolved
    created = (await referral.client.post("/api/v1/referrals", json=referral_body(),
                                          headers=POLICE)).json()
    await referral.client.post(f"/internal/referrals/{created['id']}/events", json={
        "event": "assigned", "at": datetime.now(UTC).isoformat(), "keyworker_id": "kw-3"})
    ref = created["reference"]
    assert (await referral.client.get(f"/api/v1/desk/referrals/{ref}",
                                      headers=person("kw-3"))).status_code == 404
    coordinator = await referral.client.get(f"/api/v1/desk/referrals/{ref}",
                                            headers=person(None, "coordinator"))
    assert coordinator.status_code == 200


async def test_reached_makes_it_contacted_and_closing_frees_the_caseload(
    referral: Service,
) -> None:
    created = await accepted_by(referral, "kw-4")
    ref, rid = created["reference"], created["id"]
    base = f"/api/v1/desk/referrals/{ref}"
    me = person("kw-4")
    no_answer = await referral.client.post(f"{base}/attempts", json={"result": "no_answer"},
                                           headers=me)
    assert no_answer.json() == {"status": "accepted"}
    reached = await referral.client.post(f"{base}/attempts", json={"result": "reached"},
                                         headers=me)
    assert reached.json() == {"status": "contacted"}
    partner = (await referral.client.get(f"/api/v1/referrals/{rid}", headers=POLICE)).json()
    assert partner["status"] == "contacted"
    assert (await referral.client.post(f"{base}/notes", json={"text": "Called back at 3"},
                                       headers=me)).status_code == 201
    view = (await referral.client.get(base, headers=me)).json()
    assert [a["text"] for a in view["attempts"]] == ["no_answer", "reached"]
    assert [n["text"] for n in view["notes"]] == ["Called back at 3"]
    people = (await referral.client.get("/api/v1/desk/people", headers=me)).json()
    assert [p["reference"] for p in people] == [ref] and people[0]["name"] == "Sam Example"
    closed = await referral.client.post(f"{base}/close", json={"outcome": "supported"},
                                        headers=me)
    assert closed.json() == {"status": "closed"}
    await referral.until(lambda: referral.neighbours.to(f"/internal/assignments/{rid}/closed"))
    assert (await referral.client.get("/api/v1/desk/people", headers=me)).json() == []
    again = await referral.client.post(f"{base}/notes", json={"text": "late"}, headers=me)
    assert again.status_code == 404  # closed: nothing more to change


async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    referral: Service,
) -> None:
    created = await accepted_by(referral, "kw-5")
    base = f"/api/v1/desk/referrals/{created['reference']}"
    me = person("kw-5")
    for action, body, field in (("attempts", {"result": "maybe"}, "result"),
                                ("notes", {"text": "  "}, "text"),
                                ("close", {"outcome": "vanished"}, "outcome")):
        resp = await referral.client.post(f"{base}/{action}", json=body, headers=me)
        assert resp.status_code == 422, action
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert field in resp.text
    view = (await referral.client.get(base, headers=me)).json()
    assert view["status"] == "accepted" and view["attempts"] == [] and view["notes"] == []


async def test_intake_learns_whether_a_key_worker_holds_a_persons_referral(
    referral: Service,
) -> None:
    created = await accepted_by(referral, "kw-6")
    person_id = f"person-of-{created['id']}"
    ask = "/internal/desk/access?person_id={}&keyworker_id={}"
    assert (await referral.client.get(ask.format(person_id, "kw-6"))).json() == {"allowed": True}
    assert (await referral.client.get(ask.format(person_id, "kw-7"))).json() == {
        "allowed": False}
    # Only sibling services ask: not a key, not a person.
    refused = await referral.client.get(ask.format(person_id, "kw-6"), headers=person("kw-6"))
    assert refused.status_code in (403, 404)


async def test_the_support_plan_is_versioned_and_only_the_holder_writes_it(
    referral: Service,
) -> None:
    created = await accepted_by(referral, "kw-8")
    base = f"/api/v1/desk/referrals/{created['reference']}"
    me = person("kw-8")
    first = {"what_matters": "Keeping the flat", "strengths": "Good with neighbours",
             "goals": "Sort the rent arrears", "who_helps": "Sister", "next_review": "2026-12-14"}
    assert (await referral.client.post(f"{base}/plan", json=first, headers=me)).status_code == 201
    second = {**first, "goals": "Arrears plan agreed; back to work"}
    assert (await referral.client.post(f"{base}/plan", json=second,
                                       headers=me)).status_code == 201
    plan = (await referral.client.get(base, headers=me)).json()["plan"]
    assert plan["version"] == 2 and plan["goals"] == second["goals"]
    assert plan["next_review"] == "2026-12-14"
    bad = await referral.client.post(f"{base}/plan", headers=me,
                                     json={**first, "next_review": "someday"})
    assert bad.status_code == 422 and "next_review" in bad.text
    blank = await referral.client.post(f"{base}/plan", headers=me, json={"goals": "x"})
    assert blank.status_code == 422 and "what_matters" in blank.text
    other = await referral.client.post(f"{base}/plan", json=first, headers=person("kw-9"))
    assert other.status_code == 404
    assert (await referral.client.get(base, headers=me)).json()["plan"]["version"] == 2
    partner = (await referral.client.get(f"/api/v1/referrals/{created['id']}",
                                         headers=POLICE)).json()
    assert "Keeping the flat" not in str(partner)
