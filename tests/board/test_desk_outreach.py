"""The desk's outreach page in-process, with referral and keyperson stood in for: the people to
visit per locality with why in words and who has the visit, a visit given only to a worker on
the roster, an outcome recorded, and a key worker refused before any service is asked."""

from __future__ import annotations

from typing import Any

from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401

COORD = signed_in("coordinator")
LIST = {"count": 2, "outcomes": {"engaged": "Seen: agreed to support",
                                 "not_home": "Nobody at home"},
        "localities": {"north": [
            {"referral_id": "r-1", "reference": "LW-AAAA-1111", "person_id": "p-1",
             "locality": "north", "why": "not_reached", "unanswered": 1,
             "since": "2026-11-02T10:00:00+00:00", "visit": None},
            {"referral_id": "r-2", "reference": "LW-BBBB-2222", "person_id": "p-2",
             "locality": "north", "why": "unanswered", "unanswered": 3,
             "since": "2026-11-03T10:00:00+00:00",
             "visit": {"id": "v-1", "reference": "LW-BBBB-2222", "keyworker_id": "kw-1",
                       "assigned_at": "2026-11-04T09:00:00+00:00", "outcome": None,
                       "outcome_label": None, "note": "", "outcome_at": None}}]}}


def answers(services: Any) -> None:
    services.answers[("GET", "referral", "/api/v1/desk/outreach")] = Answer(200, LIST)
    services.answers[("GET", "keyperson", "/api/v1/desk/board")] = Answer(
        200, {"on_duty": [], "gaps": [], "workers": {"kw-1": "Ash Visiting", "kw-2": "Bo"}})


async def test_the_list_says_why_and_who_has_the_visit(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    page = await client.get("/desk/outreach", params={"locality": "north"}, headers=COORD)
    assert page.status_code == 200, page.text
    assert "Closed: could not be reached" in page.text
    assert "3 attempts, none answered" in page.text
    assert "Visit given to Ash Visiting" in page.text
    assert 'action="/desk/outreach/visits/v-1/outcome"' in page.text
    assert ("GET", "referral", "/api/v1/desk/outreach?locality=north", None) in services.calls
    await client.get("/desk/outreach", params={"locality": "<x>"}, headers=COORD)
    assert ("GET", "referral", "/api/v1/desk/outreach", None) in services.calls


async def test_a_visit_goes_only_to_a_worker_on_the_roster(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    services.answers[("POST", "referral", "/api/v1/desk/outreach/LW-AAAA-1111/visits")] = (
        Answer(201, {"id": "v-2"}))
    given = await client.post("/desk/outreach/LW-AAAA-1111/visits",
                              data={"keyworker_id": "kw-2", "csrf_token": "csrf-1"},
                              headers=COORD)
    assert given.status_code == 303
    assert given.headers["location"] == "/desk/outreach#o-LW-AAAA-1111"
    assert services.calls[-1] == ("POST", "referral", "/api/v1/desk/outreach/LW-AAAA-1111/visits",
                                  {"keyworker_id": "kw-2"})
    before = len(services.calls)
    unknown = await client.post("/desk/outreach/LW-AAAA-1111/visits",
                                data={"keyworker_id": "kw-gone"}, headers=COORD)
    assert unknown.status_code == 422 and "roster" in unknown.text
    assert [c[0] for c in services.calls[before:]] == ["GET"]  # nothing posted


async def test_an_outcome_is_recorded_and_a_refusal_shown(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    path = "/api/v1/desk/outreach/visits/v-1/outcome"
    services.answers[("POST", "referral", path)] = Answer(200, {"id": "v-1"})
    done = await client.post("/desk/outreach/visits/v-1/outcome",
                             data={"outcome": "engaged", "note": "Will call"}, headers=COORD)
    assert done.status_code == 303 and done.headers["location"] == "/desk/outreach#outreach"
    assert services.calls[-1][3] == {"outcome": "engaged", "note": "Will call"}
    services.answers[("POST", "referral", path)] = Answer(
        409, {"detail": "This visit's outcome is already recorded."})
    again = await client.post("/desk/outreach/visits/v-1/outcome", data={"outcome": "engaged"},
                              headers=COORD)
    assert again.status_code == 409 and "already recorded" in again.text
    assert 'href="/desk/outreach"' in again.text


async def test_a_key_worker_gets_403_before_any_service_is_asked(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    assert (await client.get("/desk/outreach", headers=worker)).status_code == 403
    for path in ("/desk/outreach/LW-AAAA-1111/visits", "/desk/outreach/visits/v-1/outcome"):
        assert (await client.post(path, data={}, headers=worker)).status_code == 403
    assert services.calls == []


async def test_a_visit_and_its_outcome_are_on_the_persons_page(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    visit = {**LIST["localities"]["north"][1]["visit"], "outcome": "engaged",  # type: ignore[index]
             "outcome_label": "Seen: agreed to support", "note": "Will call Monday",
             "outcome_at": "2026-11-05T11:00:00+00:00"}
    services.answers[("GET", "referral", "/api/v1/desk/referrals/LW-BBBB-2222")] = Answer(200, {
        "reference": "LW-BBBB-2222", "status": "accepted", "outcome": None, "urgency": "routine",
        "respond_by": "2026-11-06T10:00:00+00:00", "locality": "north", "team": "hub",
        "created_at": "2026-11-01T10:00:00+00:00", "org": None, "source": "self",
        "subject": {"given_name": "Sam"}, "reason": "", "needs": [], "risk": {},
        "referrer": {}, "person_id": None, "information": [], "notes": [], "attempts": [],
        "signposts": [], "plan": None, "earlier": [], "visits": [visit], "outcomes": [],
        "can_act": False})
    page = await client.get("/desk/r/LW-BBBB-2222", headers=COORD)
    assert page.status_code == 200, page.text
    assert "outreach visit (LW-BBBB-2222)" in page.text
    assert "Seen: agreed to support: Will call Monday" in page.text
