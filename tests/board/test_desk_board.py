"""The desk's board and people pages in-process, with the services stood in for: the lanes
and their clocks in words, the live fragment's 204 when nothing changed, each step a
redirect, and a key worker refused (403) before any service is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.context import H_CSRF, H_INTERNAL_TOKEN
from services.desk import deps
from services.desk.app import create_app
from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.conftest import make_settings


class Services:
    """Canned answers by (method, service, path), and every call made."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str, str], Answer] = {}
        self.calls: list[tuple[str, str, str, Any]] = []

    async def call(self, request: Any, method: str, service: str, path: str,
                   payload: Any = None) -> Answer:
        self.calls.append((method, service, path, payload))
        return self.answers.get((method, service, path.split("?")[0]), Answer(200, {}))


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Services, Any]]:
    settings = make_settings("sqlite:///unused.db", tmp_path)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = Services()
        real = deps.of(app).backend
        deps.of(app).backend = services
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desk",
                                     headers={H_INTERNAL_TOKEN: settings.internal_secret,
                                              H_CSRF: "csrf-1"}) as client:
            yield client, services, app
        deps.of(app).backend = real


def board_answers(services: Services, now: datetime) -> None:
    def iso(d: timedelta) -> str:
        return (now + d).isoformat()

    services.answers[("GET", "intake", "/api/v1/desk/board/callbacks")] = Answer(200, {
        "count": 1, "oldest_at": iso(timedelta(minutes=-42)), "items": [{
            "id": "cb-1", "channel": "voice", "reason": "abandoned_call", "risk": "high",
            "reference": None, "reach": "+447400000001", "created_at": iso(timedelta(minutes=-42)),
            "due_at": iso(timedelta(minutes=-2)), "attempts": 0, "last_outcome": None,
            "taken_by": "acct-coordinator", "taken_at": iso(timedelta(minutes=-1))}]})
    services.answers[("GET", "referral", "/api/v1/desk/board/referrals")] = Answer(200, {
        "count": 2, "oldest_at": iso(timedelta(hours=-3)), "at_risk": 1, "overdue": 1,
        "items": [
            {"id": "r-1", "reference": "LW-AAAA-1111", "status": "assigned", "urgency": "urgent",
             "locality": "north", "team": None, "created_at": iso(timedelta(hours=-3)),
             "at_risk_at": iso(timedelta(hours=-1)), "respond_by": iso(timedelta(minutes=-5)),
             "keyworker_id": "kw-1"},
            {"id": "r-2", "reference": "LW-BBBB-2222", "status": "routed", "urgency": "routine",
             "locality": "south_west", "team": None, "created_at": iso(timedelta(hours=-1)),
             "at_risk_at": iso(timedelta(minutes=-10)), "respond_by": iso(timedelta(hours=2)),
             "keyworker_id": None}]})
    services.answers[("GET", "notify", "/api/v1/desk/board")] = Answer(200, {
        "handoffs": {"count": 0, "oldest_at": None, "items": []},
        "alerts": {"count": 1, "oldest_at": iso(timedelta(minutes=-3)), "items": [{
            "id": "al-1", "kind": "nobody_fits", "reference": "LW-BBBB-2222",
            "urgency": "routine", "respond_by": None, "created_at": iso(timedelta(minutes=-3)),
            "acknowledged_at": None, "acknowledged_by": None}]},
        "acknowledged": [{"id": "al-0", "kind": "crisis", "reference": None, "urgency": None,
                          "respond_by": None, "created_at": iso(timedelta(minutes=-30)),
                          "acknowledged_at": iso(timedelta(minutes=-20)),
                          "acknowledged_by": "acct-someone-else"}]})
    services.answers[("GET", "keyperson", "/api/v1/desk/board")] = Answer(200, {
        "on_duty": [], "workers": {"kw-1": "Ash First"},
        "gaps": [{"role": "duty_coordinator", "locality": "north",
                  "starts_at": iso(timedelta(hours=5)), "ends_at": iso(timedelta(hours=13)),
                  "hours": 8.0}]})


async def test_the_board_says_each_clock_in_words(desk: Any) -> None:
    client, services, app = desk
    board_answers(services, deps.of(app).clock.now())
    page = await client.get("/desk/board", headers=signed_in("coordinator", "acct-coordinator"))
    assert page.status_code == 200, page.text
    text = page.text
    assert "Overdue by 5 min" in text and "At risk: 1 h 59 min left" in text
    assert "1 referrals at risk" in text and "1 overdue" in text
    assert 'href="tel:+447400000001"' in text and "Taken by you" in text
    assert "offered to Ash First" in text
    assert "Nobody fits" in text and "acknowledged by coordinator acct-som" in text
    assert "Duty coordinator, North: nobody from" in text and "Nobody is on duty now" in text
    assert "2 waiting, longest 3 h 0 min" in text
    assert 'name="csrf_token" value="csrf-1"' in text
    assert "vendor/htmx-2.0.11.min.js" in text and "<script>" not in text


async def test_a_reference_on_the_board_opens_the_persons_page(desk: Any) -> None:
    client, services, app = desk
    board_answers(services, deps.of(app).clock.now())
    page = await client.get("/desk/board", headers=signed_in("coordinator"))
    assert '<strong><a href="/desk/r/LW-AAAA-1111">LW-AAAA-1111</a></strong>' in page.text
    assert '<a href="/desk/r/LW-BBBB-2222">LW-BBBB-2222</a>. Raised' in page.text  # an alert
    live = await client.get("/desk/board/live", headers=signed_in("coordinator"))
    assert 'href="/desk/r/LW-AAAA-1111"' in live.text
    assert 'hx-headers=\'{"X-Livewell-Update": "board"}\'' in page.text  # polls say so


async def test_the_live_fragment_is_204_when_nothing_changed(desk: Any) -> None:
    client, services, app = desk
    board_answers(services, deps.of(app).clock.now())
    headers = signed_in("coordinator")
    first = await client.get("/desk/board/live", headers=headers)
    assert first.status_code == 200 and "<html" not in first.text
    digest = first.text.split('name="digest" value="')[1].split('"')[0]
    same = await client.get("/desk/board/live", params={"digest": digest}, headers=headers)
    assert same.status_code == 204
    services.answers[("GET", "referral", "/api/v1/desk/board/referrals")].body["count"] = 3
    changed = await client.get("/desk/board/live", params={"digest": digest}, headers=headers)
    assert changed.status_code == 200 and "3 waiting" in changed.text


async def test_steps_redirect_back_to_the_board(desk: Any) -> None:
    client, services, _ = desk
    headers = signed_in("coordinator")
    services.answers[("POST", "notify", "/api/v1/desk/board/alerts/al-1/acknowledge")] = \
        Answer(200, {})
    ack = await client.post("/desk/board/alerts/al-1/acknowledge", headers=headers)
    assert ack.status_code == 303 and ack.headers["location"] == "/desk/board#alerts"
    close = await client.post("/desk/board/callbacks/cb-1/close", data={"reason": "no_need"},
                              headers=headers)
    assert close.status_code == 303
    assert services.calls[-1] == ("POST", "intake", "/api/v1/desk/board/callbacks/cb-1/close",
                                  {"reason": "no_need"})


async def test_a_key_worker_gets_403_on_the_board_and_search(desk: Any) -> None:
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    for method, path in (("GET", "/desk/board"), ("GET", "/desk/board/live"),
                         ("GET", "/desk/people"), ("POST", "/desk/people"),
                         ("POST", "/desk/board/alerts/al-1/acknowledge"),
                         ("GET", "/desk/board/referrals/r-1")):
        resp = await client.request(method, path, headers=worker)
        assert resp.status_code == 403, (path, resp.status_code)
        assert "for coordinators and admins" in resp.text
    assert services.calls == []


async def test_a_search_posts_and_shows_the_field_error_or_the_people(desk: Any) -> None:
    client, services, _ = desk
    headers = signed_in("coordinator")
    empty = await client.post("/desk/people", data={"by": "phone", "q": " "}, headers=headers)
    assert empty.status_code == 422 and 'href="#q"' in empty.text
    services.answers[("GET", "intake", "/api/v1/desk/people/search")] = Answer(200, {
        "by": "phone", "searched": "+447400000001", "notes": [], "people": [{
            "id": "p-1", "given_name": "Robin", "family_name": "Example",
            "date_of_birth": "1988-04-23", "postcode": None, "phones": ["+447400000001"],
            "emails": [], "nhs_number": None, "created_at": "2026-01-01T00:00:00+00:00",
            "references": ["LW-CCCC-3333", "LW-AAAA-1111"]}, {
            "id": "p-2", "given_name": "Robin", "family_name": "Other", "date_of_birth": None,
            "postcode": None, "phones": [], "emails": [], "nhs_number": None,
            "created_at": "2026-01-01T00:00:00+00:00", "references": []}]})
    found = await client.post("/desk/people", data={"by": "phone", "q": "07400 000001"},
                              headers=headers)
    assert found.status_code == 200 and "Robin Example" in found.text
    # The person's page is their newest referral's; each referral opens its own.
    assert '<a href="/desk/r/LW-CCCC-3333">Robin Example</a>' in found.text
    assert '<a href="/desk/r/LW-AAAA-1111">LW-AAAA-1111</a>' in found.text
    assert "No referral yet: contacts only." in found.text
    assert services.calls[-1][2] == "/api/v1/desk/people/search?by=phone&q=07400+000001"


def week_answer(services: Services) -> None:
    services.answers[("GET", "keyperson", "/api/v1/desk/rota")] = Answer(200, {
        "starts": "2030-06-01", "workers": {"kw-1": "Dana Duty"},
        "roles": ["crisis_duty", "duty_coordinator"], "localities": ["north"],
        "shifts": [{"id": "s-1", "keyworker_id": "kw-1", "role": "duty_coordinator",
                    "locality": None, "team": None, "name": "Dana Duty",
                    "starts_at": "2030-06-03T08:00:00+00:00",
                    "ends_at": "2030-06-03T16:00:00+00:00",
                    "starts_local": "2030-06-03T09:00:00+01:00",
                    "ends_local": "2030-06-03T17:00:00+01:00", "hours": 8.0}],
        "gaps": [{"role": "crisis_duty", "locality": "north",
                  "starts_at": "2030-06-04T23:00:00+00:00",
                  "ends_at": "2030-06-05T07:00:00+00:00",
                  "starts_local": "2030-06-05T00:00:00+01:00",
                  "ends_local": "2030-06-05T08:00:00+01:00", "hours": 8.0}]})


async def test_the_rota_week_shows_shifts_and_gaps_by_day_and_a_field_error(desk: Any) -> None:
    client, services, _ = desk
    week_answer(services)
    headers = signed_in("coordinator")
    page = await client.get("/desk/rota", params={"week": "2030-06-01"}, headers=headers)
    assert page.status_code == 200, page.text
    monday = page.text.split('id="day-2030-06-03"')[1].split("<h2")[0]
    assert "Dana Duty, 09:00 2030-06-03 to 17:00 2030-06-03" in monday
    assert "borough-wide" in monday and "Remove" in monday
    wednesday = page.text.split('id="day-2030-06-05"')[1].split("<h2")[0]
    assert "Gap: Crisis duty, North, nobody from 00:00 2030-06-05" in wednesday
    services.answers[("POST", "keyperson", "/api/v1/desk/rota/shifts")] = Answer(422, {
        "errors": [{"loc": ["body"], "msg": "Value error, ends_at must be after starts_at"}]})
    bad = await client.post("/desk/rota/shifts", headers=headers, data={
        "keyworker_id": "kw-1", "role": "crisis_duty", "locality": "", "week": "2030-06-01",
        "starts_at": "2030-06-03T09:00", "ends_at": "2030-06-03T08:00"})
    assert bad.status_code == 422 and 'href="#ends_at"' in bad.text
    assert "The end must be after the start" in bad.text
    assert services.calls[-2][3]["locality"] is None
    services.answers[("DELETE", "keyperson", "/api/v1/desk/rota/shifts/s-1")] = Answer(204, None)
    gone = await client.post("/desk/rota/shifts/s-1/remove", data={"week": "2030-06-01"},
                             headers=headers)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/desk/rota?week=2030-06-01#days"


async def test_a_key_worker_gets_403_on_the_rota(desk: Any) -> None:
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    for method, path in (("GET", "/desk/rota"), ("POST", "/desk/rota/shifts"),
                         ("POST", "/desk/rota/shifts/s-1/remove")):
        assert (await client.request(method, path, headers=worker)).status_code == 403
    assert services.calls == []
