"""Phone numbers in E.164, parsed with Google's libphonenumber rules (`phonenumbers`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator

DEFAULT_REGION = "GB"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """`07911 123456` → `+447911123456`; raises ValueError for anything not a valid number."""
    e164 = _e164(raw, region)
    if e164 is None:
        raise ValueError("not a valid phone number")
    return e164


# Parsing is the costliest step of answering a call, and the same numbers call again and again.
@lru_cache(maxsize=8192)
def _e164(raw: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_mobile(e164: str) -> bool:
    """True for a mobile (or mobile-or-fixed) number: one that can receive an SMS."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


E164Phone = Annotated[str, AfterValidator(to_e164)]
