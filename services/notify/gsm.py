"""GSM 03.38: which text fits the 7-bit alphabet, and how many SMS segments it takes."""

from __future__ import annotations

import math

# The basic character set, and the extension table (each costs two septets).
BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 alphabet (else the SMS goes as UCS-2)."""
    return all(c in BASIC or c in EXTENDED for c in text)


def septets(text: str) -> int:
    """Length in GSM-7 septets (extension characters count twice)."""
    return sum(2 if c in EXTENDED else 1 for c in text)


def segments(text: str) -> int:
    """SMS segments: 160/153 septets in GSM-7, 70/67 UTF-16 units in UCS-2."""
    if is_gsm7(text):
        n, single, multi = septets(text), 160, 153
    else:
        n, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if n <= single else math.ceil(n / multi)
