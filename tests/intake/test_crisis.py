"""The crisis phrase list: what must raise the alarm, and what must not."""

from __future__ import annotations

import pytest

from services.intake.crisis import CrisisDetector
from services.intake.settings import DATA_DIR
from services.intake.wording import CrisisPhraseList, load

DETECTOR = CrisisDetector(load(DATA_DIR / "crisis_phrases.yaml", CrisisPhraseList))


@pytest.mark.parametrize(("text", "kind"), [
    ("I want to kill myself", "self_harm"),
    ("i want to KILL MYSELF!!!", "self_harm"),
    ("I've been thinking about suicide", "self_harm"),
    ("I'm feeling suicidal tonight", "self_harm"),
    ("took an overdose an hour ago", "self_harm"),
    ("I can’t go on like this", "self_harm"),
    ("I keep cutting myself", "self_harm"),
    ("everyone would be better off dead without me", "self_harm"),
    ("I'm going to end   my\nlife", "self_harm"),
    ("I think I will hurt someone", "harm_to_others"),
    ("I am not safe at home", "immediate_danger"),
    ("he is going to hurt me", "immediate_danger"),
])
def test_crisis_language_is_recognised(text: str, kind: str) -> None:
    assert kind in DETECTOR.check(text).kinds


@pytest.mark.parametrize("text", [
    "Could you help me with a housing form?",
    "I'd like to book our suicide prevention training",
    "Thanks, I am safe now and feeling better",
    "The cat is not in danger any more",
    "my skill myself approach at work",  # no whole-word match inside other words
    "The pharmacy ran out of my overdue prescription",
    "I love the film Kill Bill",
    "",
])
def test_ordinary_messages_are_not_crisis(text: str) -> None:
    assert not DETECTOR.check(text).is_crisis


def test_risk_flags_follow_the_kind_of_phrase() -> None:
    risk = DETECTOR.check("I want to die and I am not safe").risk()
    assert risk == {"immediate_danger": True, "self_harm": True, "harm_to_others": False,
                    "safeguarding": False}
