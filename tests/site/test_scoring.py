"""PHQ-9 and GAD-7 scoring: totals, the published bands, and the item 9 rule."""

from __future__ import annotations

import pytest

from services.site import scoring


def answers(questionnaire: scoring.Questionnaire, *values: int) -> dict[str, str]:
    return {scoring.field_name(questionnaire, i): str(v) for i, v in enumerate(values, 1)}


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
    (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
    (27, "severe")])
def test_phq9_bands_follow_the_published_cut_offs(total: int, band: str) -> None:
    assert scoring.band_of("phq9", total) == band


@pytest.mark.parametrize(("total", "band"), [
    (0, "minimal"), (5, "mild"), (10, "moderate"), (14, "moderate"), (15, "severe"),
    (21, "severe")])
def test_gad7_bands_follow_the_published_cut_offs(total: int, band: str) -> None:
    assert scoring.band_of("gad7", total) == band


def test_item_9_above_0_is_urgent_even_with_a_minimal_total() -> None:
    result = scoring.score("phq9", answers("phq9", 0, 0, 0, 0, 0, 0, 0, 0, 1))
    assert result.total == 1 and result.band == "minimal"
    assert result.urgent and result.item9 == 1


def test_a_high_total_without_item_9_is_not_the_urgent_rule() -> None:
    result = scoring.score("phq9", answers("phq9", 3, 3, 3, 3, 3, 3, 3, 3, 0))
    assert result.total == 24 and result.band == "severe" and not result.urgent


def test_gad7_never_raises_the_item_9_rule() -> None:
    result = scoring.score("gad7", answers("gad7", 3, 3, 3, 3, 3, 3, 3))
    assert result.total == 21 and not result.urgent and result.item9 is None


def test_unanswered_or_out_of_range_items_are_named() -> None:
    form = answers("phq9", 1, 1, 1, 1, 1, 1, 1, 1, 0)
    del form["phq9_3"]
    form["phq9_5"] = "4"
    with pytest.raises(scoring.Unanswered) as caught:
        scoring.score("phq9", form)
    assert caught.value.fields == ["phq9_3", "phq9_5"]


def test_item_9_alone_is_seen_before_the_rest_is_answered() -> None:
    assert scoring.item9_answered_above_0({"phq9_9": "2"})
    assert not scoring.item9_answered_above_0({"phq9_9": "0"})
    assert not scoring.item9_answered_above_0({})
