"""PHQ-9 and GAD-7 scored on the server: totals, plain-word bands, and the item 9 rule.

The bands are the questionnaires' published cut-offs (Kroenke et al. 2001; Spitzer et al. 2006).
A result is a conversation starter, never a diagnosis. PHQ-9 item 9 (thoughts of being better
off dead or of self-harm) above 0 shows the urgent-help card at once, whatever the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Questionnaire = Literal["phq9", "gad7"]
ITEMS: dict[Questionnaire, int] = {"phq9": 9, "gad7": 7}
# (lowest total, band) in rising order; each band runs up to the next one's lowest total.
BANDS: dict[Questionnaire, tuple[tuple[int, str], ...]] = {
    "phq9": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately_severe"),
             (20, "severe")),
    "gad7": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
}


@dataclass(frozen=True)
class Score:
    questionnaire: Questionnaire
    answers: tuple[int, ...]
    total: int
    band: str
    urgent: bool  # show the urgent-help card now

    @property
    def item9(self) -> int | None:
        return self.answers[8] if self.questionnaire == "phq9" else None


class Unanswered(ValueError):
    """Some items were not answered (or not 0-3): the names of the fields to ask again."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def field_name(questionnaire: Questionnaire, item: int) -> str:
    """`phq9_1` … `phq9_9`: the form field of one item (1-based)."""
    return f"{questionnaire}_{item}"


def band_of(questionnaire: Questionnaire, total: int) -> str:
    """The published band a total falls in."""
    found = BANDS[questionnaire][0][1]
    for lowest, band in BANDS[questionnaire]:
        if total >= lowest:
            found = band
    return found


def score(questionnaire: Questionnaire, form: Mapping[str, str]) -> Score:
    """Score one questionnaire from its form fields; raises Unanswered naming missing items."""
    answers: list[int] = []
    missing: list[str] = []
    for item in range(1, ITEMS[questionnaire] + 1):
        name = field_name(questionnaire, item)
        raw = (form.get(name) or "").strip()
        if raw in ("0", "1", "2", "3"):
            answers.append(int(raw))
        else:
            missing.append(name)
    if missing:
        raise Unanswered(missing)
    total = sum(answers)
    urgent = questionnaire == "phq9" and answers[8] > 0
    return Score(questionnaire, tuple(answers), total, band_of(questionnaire, total), urgent)


def item9_answered_above_0(form: Mapping[str, str]) -> bool:
    """Item 9 alone: true even when other items were left blank (safety before completeness)."""
    return (form.get(field_name("phq9", 9)) or "").strip() in ("1", "2", "3")
