"""Finding a service by need, near a postcode or in a locality, in a language, open now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.referral.directory.models import Schedule
from services.referral.directory.search import open_at
from tests.directory.conftest import ANONYMOUS, seed_data
from tests.referral.conftest import Referral
from tests.support.service import key_headers

STAFF = key_headers("Living Well Hub", role="staff")


def _names(page: dict[str, Any]) -> list[str]:
    return [s["name"] for s in page["contents"]]


async def _find(referral: Referral, **params: Any) -> dict[str, Any]:
    resp = await referral.client.get("/openreferral/services", params=params, headers=ANONYMOUS)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_a_weekly_schedule_is_open_between_its_hours_on_its_days_in_london_time() -> None:
    weekdays = Schedule(freq="WEEKLY", byday="MO,TU,WE,TH,FR", opens_at="09:00:00",
                        closes_at="17:00:00")
    # Monday 1 June 2026, 08:30 UTC is 09:30 in London (summer time).
    assert open_at([weekdays], datetime(2026, 6, 1, 8, 30, tzinfo=UTC))
    assert not open_at([weekdays], datetime(2026, 6, 1, 16, 30, tzinfo=UTC))  # 17:30 BST
    assert not open_at([weekdays], datetime(2026, 6, 6, 10, 0, tzinfo=UTC))  # Saturday
    assert not open_at([], datetime(2026, 6, 1, 10, 0, tzinfo=UTC))  # hours unknown


async def test_debt_advice_near_the_person_in_their_language_comes_first(
        referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    near_stockwell = await _find(referral, taxonomy_term_id="debt", postcode="SW9 9ZZ")
    assert _names(near_stockwell)[0] == "Example: Stockwell Debt Advice"
    near_norwood = await _find(referral, taxonomy_term_id="debt", postcode="se279zz")
    assert _names(near_norwood)[0] == "Example: West Norwood Debt and Money Clinic"
    in_polish = await _find(referral, taxonomy_term_id="debt", language="pl")
    assert _names(in_polish) == ["Example: Stockwell Debt Advice"]
    in_somali = await _find(referral, taxonomy_term_id="debt", language="so")
    assert _names(in_somali) == ["Example: West Norwood Debt and Money Clinic"]
    term_id = seed_data()["taxonomies"][0]["taxonomy_terms"][1]["id"]  # debt, by its id
    assert len((await _find(referral, taxonomy_term_id=term_id))["contents"]) == 2


async def test_open_now_keeps_only_services_open_at_this_moment(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    now = referral.harness.kit.clock.now()
    expected = sorted(
        f"{s['name']}" for s in seed_data()["services"]
        if open_at([Schedule(**{k: sc.get(k) for k in ("freq", "byday", "opens_at", "closes_at")})
                    for sc in s["schedules"]], now))
    found = await _find(referral, open_now="true", text="Example:", per_page=100)
    assert sorted(_names(found)) == expected


async def test_a_locality_finds_services_there_and_borough_wide_ones(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    south_east = _names(await _find(referral, locality="south_east", text="Example:",
                                    per_page=100))
    # Places in the locality first (SE27), then services covering it only by area (SW4).
    assert (south_east.index("Example: West Norwood Debt and Money Clinic")
            < south_east.index("Example: Work and Wellbeing"))
    assert len(south_east) == 8  # every example covers Lambeth by its service area


async def test_bad_filters_are_refused_naming_the_field(referral: Referral) -> None:
    for params, field in (({"postcode": "not a postcode"}, "postcode"),
                          ({"locality": "mars"}, "locality"),
                          ({"language": "Polish!"}, "language"),
                          ({"page": "0"}, "page"), ({"per_page": "1000"}, "per_page")):
        resp = await referral.client.get("/openreferral/services", params=params,
                                         headers=ANONYMOUS)
        assert resp.status_code == 422, params
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["errors"][0]["loc"] == ["query", field]
