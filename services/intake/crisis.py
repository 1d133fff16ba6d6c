"""Crisis language in texts and emails, from the maintained phrase list in `data/`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.intake.wording import CrisisPhraseList

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def normalise(text: str) -> str:
    """Lower case, plain apostrophes, punctuation as spaces, single spaces."""
    text = text.translate(_APOSTROPHES).lower()
    text = re.sub(r"[^\w']+", " ", text)
    return " ".join(text.split())


def _pattern(phrase: str) -> str:
    words = normalise(phrase.rstrip("*")).split(" ")
    tail = r"\w*" if phrase.endswith("*") else ""
    return r"(?<![\w'])" + r"\s".join(re.escape(w) for w in words) + tail + r"(?![\w'])"


@dataclass(frozen=True)
class CrisisCheck:
    """Which kinds of crisis language a text carries (empty: none)."""

    kinds: tuple[str, ...]

    @property
    def is_crisis(self) -> bool:
        return bool(self.kinds)

    def risk(self) -> dict[str, bool]:
        """The risk flags of a referral, as in the public contract."""
        return {"immediate_danger": "immediate_danger" in self.kinds,
                "self_harm": "self_harm" in self.kinds,
                "harm_to_others": "harm_to_others" in self.kinds,
                "safeguarding": False}


class CrisisDetector:
    """Matches whole words, ignoring case and punctuation; known false alarms are removed first."""

    def __init__(self, phrases: CrisisPhraseList) -> None:
        self.version = phrases.version
        self._except = [re.compile(_pattern(p)) for p in phrases.except_]
        self._kinds = {kind: re.compile("|".join(_pattern(p) for p in items))
                       for kind, items in phrases.phrases.items() if items}

    def check(self, *texts: str | None) -> CrisisCheck:
        """Look for crisis language in any of `texts`."""
        text = normalise(" ".join(t for t in texts if t))
        for pattern in self._except:
            text = pattern.sub(" | ", text)
        return CrisisCheck(tuple(k for k, p in self._kinds.items() if p.search(text)))
