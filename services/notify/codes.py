"""Reply codes: unguessable, easy to type, read back tolerantly (any case, stray punctuation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from services.common.ids import random_code

CODE_LENGTH = 6  # 32**6 ≈ 10⁹ codes; only the worker's own number may use one, rate-limited
_CROCKFORD_FIX = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_VALID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{6}$")
Verb = Literal["accept", "decline"]
_VERBS: dict[str, Verb] = {"ACCEPT": "accept", "ACCEPTED": "accept", "ACCEPTING": "accept",
                           "DECLINE": "decline", "DECLINED": "decline", "DECLINING": "decline"}
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def new_code() -> str:
    """A fresh code from a cryptographic source, e.g. `K7M2QX`."""
    return random_code(CODE_LENGTH)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a reply asks: a verb and a code, a STOP, or nothing we understand."""

    verb: Verb | None
    code: str | None
    stop: bool = False


def parse_reply(body: str) -> Reply:
    """`accept k7m-2qx!` → Reply("accept", "K7M2QX"); `STOP` → Reply(None, None, stop=True)."""
    words = re.sub(r"[^A-Z0-9]+", " ", body.upper()).split()
    if not words:
        return Reply(None, None)
    if len(words) == 1 and words[0] in STOP_WORDS:
        return Reply(None, None, stop=True)
    verb = _VERBS.get(words[0])
    rest = "".join(words[1:]).translate(_CROCKFORD_FIX)
    code = rest if _VALID.match(rest) else None
    return Reply(verb, code)


def looks_like_code(body: str) -> str | None:
    """The code in a reply that names one without a verb we know (for the help reply)."""
    words = re.sub(r"[^A-Z0-9]+", " ", body.upper()).split()
    for word in words:
        fixed = word.translate(_CROCKFORD_FIX)
        if _VALID.match(fixed) and any(c.isdigit() for c in fixed):
            return fixed
    return None
