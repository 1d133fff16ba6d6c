"""The desk's key worker pages in-process, with keyperson stood in for: the roster with
caseloads and absences, a worker added (the form's words sent as keyperson's fields) or
refused on the field keyperson names, edited, away, taken off, and a key worker refused
before keyperson is asked."""

from __future__ import annotations

from typing import Any

from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401

COORD = signed_in("coordinator")
API = "/api/v1/desk/keyworkers"
ASH = {"id": "kw-1", "name": "Ash Worker", "phone": "+447400000001", "email": None,
       "localities": ["north"], "teams": ["hub"], "skills": ["lang:pl"], "max_caseload": 20,
       "caseload": 3, "active": True, "last_assigned_at": None,
       "created_at": "2026-11-01T10:00:00+00:00",
       "absences": [{"id": "ab-1", "keyworker_id": "kw-1", "kind": "leave",
                     "starts_at": "2026-12-01T09:00:00+00:00",
                     "ends_at": "2026-12-05T17:00:00+00:00", "reassigned": 0}]}
ROSTER = {"workers": [ASH], "localities": ["hub", "north", "south_east", "south_west"],
          "teams": ["hub", "ips_alliance"]}


def answers(services: Any) -> None:
    services.answers[("GET", "keyperson", API)] = Answer(200, ROSTER)


async def test_the_roster_and_a_workers_page(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    page = await client.get("/desk/keyworkers", headers=COORD)
    assert page.status_code == 200, page.text
    assert 'href="/desk/keyworkers/kw-1">Ash Worker</a>' in page.text
    assert "3 of 20" in page.text and "leave" in page.text
    assert 'name="localities" type="checkbox" value="south_west"' in page.text
    one = await client.get("/desk/keyworkers/kw-1", headers=COORD)
    assert one.status_code == 200, one.text
    assert 'value="lang:pl"' in one.text and 'value="north" checked' in one.text
    assert 'action="/desk/keyworkers/kw-1/absences/ab-1/cancel"' in one.text
    assert "Take Ash Worker off the roster" in one.text
    assert (await client.get("/desk/keyworkers/kw-404", headers=COORD)).status_code == 404


async def test_adding_sends_keypersons_fields_and_shows_a_refusal_on_its_field(
    desk: Any,  # noqa: F811
) -> None:
    client, services, _ = desk
    answers(services)
    services.answers[("POST", "keyperson", API)] = Answer(201, {"id": "kw-2"})
    added = await client.post("/desk/keyworkers", headers=COORD, data={
        "name": " Bo New ", "phone": "07400 000002", "email": "", "localities": ["north"],
        "teams": ["hub", "ips_alliance"], "skills": "lang:PL, young_adults,",
        "max_caseload": "12"})
    assert added.status_code == 303 and added.headers["location"] == "/desk/keyworkers/kw-2"
    assert services.calls[-1][3] == {
        "name": "Bo New", "phone": "07400 000002", "email": None, "localities": ["north"],
        "teams": ["hub", "ips_alliance"], "skills": ["lang:pl", "young_adults"],
        "max_caseload": "12"}
    services.answers[("POST", "keyperson", API)] = Answer(422, {"errors": [
        {"loc": ["body", "localities", 0], "msg": "unknown locality 'atlantis'"}]})
    refused = await client.post("/desk/keyworkers", headers=COORD, data={
        "name": "Bo", "phone": "07400 000002", "localities": ["atlantis"]})
    assert refused.status_code == 422 and 'href="#localities"' in refused.text
    assert "Unknown locality" in refused.text and 'value="Bo"' in refused.text


async def test_edit_absence_and_taking_off_redirect_back(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    services.answers[("PATCH", "keyperson", f"{API}/kw-1")] = Answer(200, ASH)
    saved = await client.post("/desk/keyworkers/kw-1", headers=COORD, data={
        "name": "Ash Worker", "phone": "+447400000001", "localities": ["north", "hub"],
        "teams": ["hub"], "skills": "", "max_caseload": "25"})
    assert saved.status_code == 303 and saved.headers["location"] == "/desk/keyworkers/kw-1#saved"
    assert services.calls[-1][3]["localities"] == ["north", "hub"]
    off = await client.post("/desk/keyworkers/kw-1/active", headers=COORD,
                            data={"active": "false"})
    assert off.status_code == 303 and services.calls[-1][3] == {"active": False}
    services.answers[("POST", "keyperson", f"{API}/kw-1/absences")] = Answer(422, {"errors": [
        {"loc": ["body"], "msg": "Value error, ends_at must be after starts_at"}]})
    bad = await client.post("/desk/keyworkers/kw-1/absences", headers=COORD, data={
        "kind": "leave", "starts_at": "2026-12-02T09:00", "ends_at": "2026-12-01T09:00"})
    assert bad.status_code == 422 and 'href="#ends_at"' in bad.text
    assert "The end must be after the start" in bad.text
    assert 'value="2026-12-02T09:00"' in bad.text
    services.answers[("DELETE", "keyperson", f"{API}/kw-1/absences/ab-1")] = Answer(204, None)
    cancelled = await client.post("/desk/keyworkers/kw-1/absences/ab-1/cancel", headers=COORD)
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == "/desk/keyworkers/kw-1#absences"


async def test_a_key_worker_gets_403_before_keyperson_is_asked(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    for path in ("/desk/keyworkers", "/desk/keyworkers/kw-1"):
        assert (await client.get(path, headers=worker)).status_code == 403
    for path in ("/desk/keyworkers", "/desk/keyworkers/kw-1", "/desk/keyworkers/kw-1/active",
                 "/desk/keyworkers/kw-1/absences", "/desk/keyworkers/kw-1/absences/a/cancel"):
        assert (await client.post(path, data={}, headers=worker)).status_code == 403
    assert services.calls == []
