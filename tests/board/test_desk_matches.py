"""The desk's possible matches page in-process, with intake stood in for: both people with
the reasons in words, merging into the chosen record, dismissing, a refusal shown with the
way back, and a key worker refused before intake is asked."""

from __future__ import annotations

from typing import Any

from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401

COORD = signed_in("coordinator")


def side(pid: str, given: str, **ids: list[str]) -> dict[str, Any]:
    return {"id": pid, "given_name": given, "family_name": "Mensah",
            "date_of_birth": "1979-06-05", "postcode": None, "identifiers": ids,
            "created_at": "2026-11-01T10:00:00+00:00"}


MATCHES = {"count": 1, "matches": [{
    "id": "m-1", "reasons": ["same_name_and_date_of_birth"],
    "created_at": "2026-11-02T10:00:00+00:00",
    "person": side("p-2", "Kofi", email=["k@x.example"]),
    "candidate": side("p-1", "Kofi", phone=["+447400000001"])}]}


async def test_both_people_and_the_reason_in_words(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    services.answers[("GET", "intake", "/api/v1/desk/matches")] = Answer(200, MATCHES)
    page = await client.get("/desk/matches", headers=COORD)
    assert page.status_code == 200, page.text
    assert "Same name and date of birth" in page.text
    assert "+447400000001" in page.text and "k@x.example" in page.text
    assert 'action="/desk/matches/m-1/merge"' in page.text
    assert 'action="/desk/matches/m-1/dismiss"' in page.text


async def test_merge_and_dismiss_redirect_and_a_refusal_is_shown(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    services.answers[("POST", "intake", "/api/v1/desk/matches/m-1/merge")] = Answer(200, {})
    merged = await client.post("/desk/matches/m-1/merge", data={"keep": "p-1"}, headers=COORD)
    assert merged.status_code == 303 and merged.headers["location"] == "/desk/matches#matches"
    assert services.calls[-1] == ("POST", "intake", "/api/v1/desk/matches/m-1/merge",
                                  {"keep": "p-1"})
    services.answers[("POST", "intake", "/api/v1/desk/matches/m-1/dismiss")] = Answer(
        409, {"detail": "This possible match was already settled."})
    settled = await client.post("/desk/matches/m-1/dismiss", headers=COORD)
    assert settled.status_code == 409 and "already settled" in settled.text
    assert "Back to possible matches" in settled.text


async def test_a_key_worker_gets_403_before_intake_is_asked(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    assert (await client.get("/desk/matches", headers=worker)).status_code == 403
    for path in ("/desk/matches/m-1/merge", "/desk/matches/m-1/dismiss"):
        assert (await client.post(path, data={"keep": "p-1"}, headers=worker)).status_code == 403
    assert services.calls == []
