"""Phone numbers in E.164, parsed with Google's libphonenumber rules (`phonenumbers`)."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from pydantic import AfterValidator

DEFAULT_REGION = "GB"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """`07911 123456` → `+447911123456`; raises ValueError for anything not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_mobile(e164: str) -> bool:
    """True for a mobile (or mobile-or-fixed) number: one that can receive an SMS."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


E164Phone = Annotated[str, AfterValidator(to_e164)]
