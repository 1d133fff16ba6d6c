"""Outreach visits in the monthly figures, from referral's own notes: visits given in the
month (again to someone else counts again) and outcomes recorded in the month, by outcome;
under disclosure control like every count, and in the CSV rows."""

from __future__ import annotations

from typing import Any

from services.common.figures import Month, empty, publishable, rows
from tests.board.people import COORDINATOR, signed_in
from tests.board.referral.test_outreach import LIST, attempts
from tests.desk.test_referral_rules import accepted_by
from tests.referral.conftest import Referral

COORD = signed_in("coordinator", COORDINATOR)
PART = "/internal/figures/monthly"


async def visits_part(referral: Referral, month: Month) -> dict[str, Any]:
    resp = await referral.client.get(PART, params={"month": str(month)})
    assert resp.status_code == 200, resp.text
    part: dict[str, Any] = resp.json()["outreach_visits"]
    return part


async def test_visits_given_and_their_outcomes_are_counted_in_their_month(
    referral: Referral,
) -> None:
    month = Month.of(referral.harness.kit.clock.now())
    before = await visits_part(referral, month)
    created = await accepted_by(referral, "kw-1")
    ref = created["reference"]
    await attempts(referral, ref, "no_answer", "no_answer", "no_answer")
    first = (await referral.client.post(f"{LIST}/{ref}/visits", json={"keyworker_id": "kw-9"},
                                        headers=COORD)).json()["id"]
    assert (await referral.client.post(f"{LIST}/visits/{first}/outcome",
                                       json={"outcome": "not_home"}, headers=COORD)).is_success
    second = (await referral.client.post(f"{LIST}/{ref}/visits", json={"keyworker_id": "kw-8"},
                                         headers=COORD)).json()["id"]
    await referral.client.post(f"{LIST}/{ref}/visits", json={"keyworker_id": "kw-7"},
                               headers=COORD)  # given again to someone else: counts again
    assert (await referral.client.post(f"{LIST}/visits/{second}/outcome",
                                       json={"outcome": "engaged"}, headers=COORD)).is_success
    after = await visits_part(referral, month)
    assert after["assigned"] - before["assigned"] == 3
    grew = {k: v - before["by_outcome"].get(k, 0) for k, v in after["by_outcome"].items()}
    assert {k: v for k, v in grew.items() if v} == {"engaged": 1, "not_home": 1}
    assert list(after["by_outcome"]) == sorted(after["by_outcome"])
    earlier = await visits_part(referral, Month.parse("1999-01"))
    assert earlier == {"assigned": 0, "by_outcome": {}}


def test_visits_are_published_under_disclosure_control_and_in_the_csv_rows() -> None:
    figures = empty(Month.parse("2026-11"))
    figures["outreach_visits"] = {"assigned": 12, "by_outcome": {"engaged": 3, "not_home": 9}}
    published = publishable(figures)
    assert published["outreach_visits"] == {"assigned": 10,
                                            "by_outcome": {"engaged": "*", "not_home": 10}}
    assert ("outreach_visits", "assigned", "12") in rows(figures)
    assert ("outreach_visits.by_outcome", "engaged", "3") in rows(figures)
    nothing = empty(Month.parse("2026-11"))
    assert publishable(nothing)["outreach_visits"] == {"assigned": 0, "by_outcome": {}}
