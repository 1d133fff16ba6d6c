"""Outreach: people whose referral closed `not_reached`, or with 3 attempts and none
answered, are listed per locality; a coordinator gives a visit to a key worker and records how
it went, which lands on the person's story; coordinators and admins only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.referral.models import AuditEntry, ReferralNote
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.desk.test_referral_rules import accepted_by
from tests.referral.conftest import Referral

LIST = "/api/v1/desk/outreach"
COORD = signed_in("coordinator", COORDINATOR)


async def attempts(referral: Referral, reference: str, *results: str) -> None:
    for result in results:
        resp = await referral.client.post(f"/api/v1/desk/referrals/{reference}/attempts",
                                          json={"result": result}, headers=COORD)
        assert resp.status_code == 201, resp.text


async def listed(referral: Referral) -> dict[str, dict[str, Any]]:
    resp = await referral.client.get(LIST, headers=COORD)
    assert resp.status_code == 200, resp.text
    return {item["reference"]: item for items in resp.json()["localities"].values()
            for item in items}


async def test_unanswered_three_times_or_closed_not_reached_are_listed(
    referral: Referral,
) -> None:
    three = await accepted_by(referral, "kw-1")
    two = await accepted_by(referral, "kw-1")
    reached = await accepted_by(referral, "kw-1")
    closed = await accepted_by(referral, "kw-1")
    await attempts(referral, three["reference"], "no_answer", "left_message", "wrong_number")
    await attempts(referral, two["reference"], "no_answer", "no_answer")
    await attempts(referral, reached["reference"], "no_answer", "no_answer", "no_answer",
                   "reached")
    resp = await referral.client.post(f"/api/v1/desk/referrals/{closed['reference']}/close",
                                      json={"outcome": "not_reached"}, headers=COORD)
    assert resp.status_code in (200, 204), resp.text
    found = await listed(referral)
    assert three["reference"] in found and closed["reference"] in found
    assert two["reference"] not in found and reached["reference"] not in found
    item = found[three["reference"]]
    assert (item["why"], item["unanswered"], item["visit"]) == ("unanswered", 3, None)
    assert found[closed["reference"]]["why"] == "not_reached"
    assert "subject" not in item and "reason" not in item  # read on the referral's own page
    by_place = (await referral.client.get(LIST, params={"locality": item["locality"]},
                                          headers=COORD)).json()["localities"]
    assert list(by_place) == [item["locality"]]


async def test_a_visit_given_and_its_outcome_land_on_the_persons_story(
    referral: Referral,
) -> None:
    created = await accepted_by(referral, "kw-1")
    ref = created["reference"]
    await attempts(referral, ref, "no_answer", "no_answer", "no_answer")
    given = await referral.client.post(f"{LIST}/{ref}/visits", json={"keyworker_id": "kw-9"},
                                       headers=COORD)
    assert given.status_code == 201, given.text
    first = given.json()["id"]
    assert (await listed(referral))[ref]["visit"]["keyworker_id"] == "kw-9"
    nobody = await referral.client.post(f"{LIST}/visits/{first}/outcome",
                                        json={"outcome": "not_home"}, headers=COORD)
    assert nobody.status_code == 200, nobody.text
    assert ref in await listed(referral)  # nobody at home: visit again
    second = (await referral.client.post(f"{LIST}/{ref}/visits",
                                         json={"keyworker_id": "kw-8"}, headers=COORD)).json()
    seen = await referral.client.post(f"{LIST}/visits/{second['id']}/outcome",
                                      json={"outcome": "engaged", "note": "Will call Monday"},
                                      headers=signed_in("admin"))
    assert seen.status_code == 200, seen.text
    assert ref not in await listed(referral)
    story = (await referral.client.get(f"/api/v1/desk/referrals/{ref}",
                                       headers=COORD)).json()["visits"]
    assert [(v["keyworker_id"], v["outcome"]) for v in story] == [("kw-8", "engaged"),
                                                                  ("kw-9", "not_home")]
    assert story[0]["outcome_label"] == "Seen: agreed to support"
    assert story[0]["note"] == "Will call Monday"
    async with referral.harness.kit.db.sessionmaker() as s:
        actions = [a.action for a in (await s.scalars(select(AuditEntry))).all()]
    assert {"outreach_visit", "visit_outcome:not_home", "visit_outcome:engaged"} <= set(actions)
    assert not [a for a in actions if "Monday" in a]


async def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(
    referral: Referral,
) -> None:
    created = await accepted_by(referral, "kw-1")
    ref = created["reference"]
    await attempts(referral, ref, "no_answer", "no_answer", "no_answer")
    for body in ({}, {"keyworker_id": ""}, {"keyworker_id": "a b"}):
        resp = await referral.client.post(f"{LIST}/{ref}/visits", json=body, headers=COORD)
        assert resp.status_code == 422 and "keyworker_id" in resp.text, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
    other = await accepted_by(referral, "kw-1")  # not on the list: nothing to visit
    assert (await referral.client.post(f"{LIST}/{other['reference']}/visits",
                                       json={"keyworker_id": "kw-9"},
                                       headers=COORD)).status_code == 404
    visit = (await referral.client.post(f"{LIST}/{ref}/visits", json={"keyworker_id": "kw-9"},
                                        headers=COORD)).json()["id"]
    for body in ({}, {"outcome": "lost"}, {"outcome": "engaged", "note": "x" * 2001}):
        resp = await referral.client.post(f"{LIST}/visits/{visit}/outcome", json=body,
                                          headers=COORD)
        assert resp.status_code == 422, resp.text
        assert ("note" if "note" in body else "outcome") in resp.text
    assert (await referral.client.post(f"{LIST}/visits/nope/outcome",
                                       json={"outcome": "engaged"},
                                       headers=COORD)).status_code == 404
    async with referral.harness.kit.db.sessionmaker() as s:
        kinds = [n.kind for n in (await s.scalars(select(ReferralNote).where(
            ReferralNote.referral_id == created["id"]))).all()]
    assert kinds.count("outreach_visit") == 1 and "visit_outcome" not in kinds
    done = await referral.client.post(f"{LIST}/visits/{visit}/outcome",
                                      json={"outcome": "declined"}, headers=COORD)
    assert done.status_code == 200
    again = await referral.client.post(f"{LIST}/visits/{visit}/outcome",
                                       json={"outcome": "engaged"}, headers=COORD)
    assert again.status_code == 409


async def test_key_workers_and_keys_get_403(referral: Referral) -> None:
    created = await accepted_by(referral, "kw-1")
    for headers in refused_everyone_but_coordinators():
        assert (await referral.client.get(LIST, headers=headers)).status_code == 403
        resp = await referral.client.post(f"{LIST}/{created['reference']}/visits",
                                          json={"keyworker_id": "kw-9"}, headers=headers)
        assert resp.status_code == 403
