"""Each service's part of the monthly figures, in-process on SQLite and PostgreSQL: internal
only, the month checked, London month bounds, people counted once, crisis answers in 60 s."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.common.context import H_ACTOR_KIND
from services.common.figures import Month, publishable
from services.common.settings import ServiceName, Settings
from services.intake.app import create_app as intake_app
from services.intake.models import Contact, Person
from services.keyperson.app import create_app as keyperson_app
from services.notify.app import create_app as notify_app
from services.referral.app import create_app as referral_app
from tests.conftest import make_settings
from tests.support.service import ServiceHarness, key_headers, running_service

APPS: dict[ServiceName, Callable[[Settings], FastAPI]] = {
    "intake": intake_app, "referral": referral_app, "notify": notify_app,
    "keyperson": keyperson_app}
PATH = "/internal/figures/monthly"


@pytest.fixture
async def intake(database_url: str, tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with running_service("intake", intake_app,
                               make_settings(database_url, tmp_path)) as harness:
        yield harness


@pytest.mark.parametrize("service", list(APPS))
async def test_a_part_is_for_sibling_services_only_and_names_a_bad_month(
    service: ServiceName, database_url: str, tmp_path: Path,
) -> None:
    async with running_service(service, APPS[service],
                               make_settings(database_url, tmp_path)) as harness:
        ok = await harness.client.get(PATH, params={"month": "1999-01"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["month"] == "1999-01"
        for month in ("1999-13", "99-01", ""):
            bad = await harness.client.get(PATH, params={"month": month})
            assert bad.status_code == 422
            assert bad.headers["content-type"].startswith("application/problem+json")
            assert bad.json()["errors"][0]["loc"] == ["query", "month"]
        for outsider in (key_headers("Lambeth Police", "admin"), {H_ACTOR_KIND: "person"},
                         {H_ACTOR_KIND: "anonymous"}):
            refused = await harness.client.get(PATH, params={"month": "1999-01"},
                                               headers=outsider)
            assert refused.status_code == 404


def _contact(at: datetime, **values: Any) -> Contact:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()), "channel": "voice", "external_id": uuid.uuid4().hex,
        "person_id": None, "from_address": None, "crisis": False, "created_at": at,
        "updated_at": at}
    return Contact(**{**base, **values})


def _person(at: datetime, merged_into: str | None = None) -> Person:
    return Person(id=str(uuid.uuid4()), merged_into=merged_into, created_at=at, updated_at=at)


async def test_intake_counts_london_months_people_once_and_crisis_answers_in_60_s(
    intake: ServiceHarness,
) -> None:
    # A month of its own (years apart from any other test's rows in the shared database).
    year = 2090 + uuid.uuid4().int % 9
    october = Month(year, 10)
    start, end = october.start, october.end
    old = _person(start - timedelta(days=40))
    twin = _person(start + timedelta(days=2), merged_into=old.id)  # merged: one person, old
    fresh = _person(start + timedelta(days=3))
    earlier_caller = f"+4477009{uuid.uuid4().int % 100000:05d}"
    rows = [
        old, twin, fresh,
        _contact(start, channel="sms", person_id=twin.id),  # 00:00 BST on 1 October
        _contact(start + timedelta(days=1), channel="email", person_id=old.id),
        _contact(start + timedelta(days=3), channel="web", person_id=fresh.id),
        _contact(end - timedelta(seconds=1), channel="sms", person_id=fresh.id),
        _contact(end, channel="sms", person_id=fresh.id),  # November
        _contact(start - timedelta(days=5), from_address=earlier_caller),  # September
        _contact(start + timedelta(days=4), from_address=earlier_caller),  # returning, no person
        _contact(start + timedelta(days=4), from_address="+447700900999"),  # new, no person
        _contact(start + timedelta(days=5), ivr_choice="crisis",
                 answered_at=start + timedelta(days=5, seconds=60)),  # exactly 60 s: counts
        _contact(start + timedelta(days=6), ivr_choice="crisis",
                 answered_at=start + timedelta(days=6, seconds=61)),
        _contact(start + timedelta(days=7), ivr_choice="crisis"),  # nobody answered
    ]
    async for session in intake.kit.db.session():
        session.add_all(rows[:3])
        await session.flush()
        session.add_all(rows[3:])
    part = (await intake.client.get(PATH, params={"month": str(october)})).json()
    assert part["contacts"] == {"voice": 5, "sms": 2, "email": 1, "web": 1}
    assert part["crisis_calls"] == {"total": 3, "to_a_human_within_60s": 1}
    people = set(part["people"])
    assert {old.id, fresh.id} <= people and twin.id not in people
    # old, fresh, the returning caller and the new one; the crisis callers withheld numbers
    assert len(people) == 4 + 3
    first = set(part["people_first_known"])
    assert fresh.id in first and old.id not in first
    anonymous = {p for p in people if p.startswith("anon:")}
    assert len(anonymous & first) == 4  # the new caller and three withheld crisis calls
    assert not any(earlier_caller in p or "+4477009" in p for p in people)


def test_a_median_that_happens_to_be_whole_is_not_rounded_as_a_count() -> None:
    from services.common.figures import empty, median, p90

    hours = [float(h) for h in range(1, 11)]
    figures = empty(Month(2026, 11))
    figures["time_to_contact_hours"] = {"n": 10, "median": median(hours), "p90": p90([9, 1])}
    out = publishable(figures)
    assert out["time_to_contact_hours"]["p90"] == 9.0  # not 10, as a count 9 would be
    assert out["time_to_contact_hours"]["median"] == 5.5


def test_the_month_bounds_cross_the_october_clock_change() -> None:
    october = Month(2027, 10)
    assert october.start == datetime(2027, 9, 30, 23, 0, tzinfo=UTC)
    assert october.end == datetime(2027, 11, 1, 0, 0, tzinfo=UTC)
    assert october.contains(datetime(2027, 10, 31, 23, 30, tzinfo=UTC))  # GMT by then
