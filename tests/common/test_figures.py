"""Monthly figures in the kit: London months, composing parts, disclosure control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.figures import Month, compose, empty, median, p90, publishable, rows


def test_october_runs_from_bst_midnight_to_gmt_midnight_across_the_clock_change() -> None:
    october = Month.parse("2026-10")
    assert october.start == datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    assert october.end == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    # 00:30 on 1 October London time is still 30 September in UTC, and counts as October
    assert october.contains(datetime(2026, 9, 30, 23, 30, tzinfo=UTC))
    assert not Month.parse("2026-09").contains(datetime(2026, 9, 30, 23, 30, tzinfo=UTC))
    assert Month.of(datetime(2026, 10, 31, 23, 59, tzinfo=UTC)) == october


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "2026-11-01", ""])
def test_a_month_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


def test_twelve_months_back_cross_the_year() -> None:
    months = Month.parse("2026-02").previous(3)
    assert [str(m) for m in months] == ["2025-12", "2026-01", "2026-02"]


def test_median_and_nearest_rank_p90() -> None:
    assert median([]) is None and p90([]) is None
    assert median([1, 3, 2, 10]) == 2.5
    assert p90(list(range(1, 11))) == 9
    assert p90([5]) == 5


def test_a_person_seen_by_intake_and_referral_is_supported_once() -> None:
    month = Month.parse("2026-11")
    figures = compose(month, [
        {"people": ["p1", "p2"], "people_first_known": ["p2", "p9"],
         "contacts": {"voice": 2, "sms": 1, "email": 0, "web": 0}},
        {"people": ["p2", "p3"], "referrals": {"total": 2, "by_source": {"Police": 2},
                                               "by_urgency": {"urgent": 2},
                                               "by_locality": {"north": 2}}},
    ])
    assert figures["people_supported"] == 3
    assert figures["people_new"] == 1  # p9 was first known but neither contacted nor referred
    assert figures["contacts"]["voice"] == 2 and figures["referrals"]["total"] == 2
    assert "people" not in figures and "people_first_known" not in figures


def test_publication_suppresses_small_counts_and_rounds_the_rest() -> None:
    figures = empty(Month.parse("2026-11"))
    figures.update(people_supported=472, people_new=7)
    figures["contacts"].update(voice=0, sms=8, email=12, web=13)
    figures["time_to_contact_hours"] = {"n": 7, "median": 20.0, "p90": 40.0}
    figures["respond_by"] = {"urgent": {"referrals": 23, "contacted_in_time": 18},
                             "emergency": {"referrals": 3, "contacted_in_time": 3}}
    figures["handoffs"] = {"offered": 30, "accepted": 9, "declined": 2,
                           "median_minutes_to_accept": 12.0}
    out = publishable(figures)
    assert out["people_supported"] == 470 and out["people_new"] == "*"
    assert out["contacts"] == {"voice": 0, "sms": 10, "email": 10, "web": 15}
    assert out["time_to_contact_hours"] == {"n": "*", "median": "*", "p90": "*"}
    # percentages from the rounded figures: 20 of 25
    assert out["respond_by"]["urgent"] == {"referrals": 25, "contacted_in_time": 20,
                                           "percent_in_time": 80.0}
    assert out["respond_by"]["emergency"]["percent_in_time"] == "*"
    assert out["handoffs"]["median_minutes_to_accept"] == 12.0
    assert out["handoffs"]["declined"] == "*"
    assert out["month"] == "2026-11"


def test_rows_flatten_every_figure() -> None:
    figures = empty(Month.parse("2026-11"))
    figures["referrals"]["by_source"] = {"Lambeth Police": 4}
    flat = rows(figures)
    assert ("referrals.by_source", "Lambeth Police", "4") in flat
    assert ("contacts", "web", "0") in flat
    assert ("people_supported", "", "0") in flat
