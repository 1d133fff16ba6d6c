"""Phone numbers in E.164, parsed with Google's libphonenumber rules (`phonenumbers`).

Two rules, one for each kind of number:
- a **person's** number (a caller, a referral's subject or referrer, a text to a person) is
  accepted whenever it is *possible* (the right length for its country): the metadata lags
  behind newly issued ranges, and refusing or dropping a number that is real would lose the
  person. One that is not *valid* in the metadata is kept and flagged unverified
  (`PersonNumber.verified`, `person_number()`, `PersonPhone`).
- a **key worker's** own mobile must be valid (`to_e164`, `E164Phone`): we must be able to text it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator

DEFAULT_REGION = "GB"


@dataclass(frozen=True, slots=True)
class PersonNumber:
    """A person's number: E.164, and whether the metadata knows its range."""

    e164: str
    verified: bool


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """`07911 123456` → `+447911123456`; raises ValueError for anything not a valid number."""
    found = _parse(raw, region)
    if found is None or not found.verified:
        raise ValueError("not a valid phone number")
    return found.e164


def person_number(raw: str | None, region: str = DEFAULT_REGION) -> PersonNumber | None:
    """A person's number in E.164 when it is possible at all (see the module docstring);
    None for a withheld, empty or malformed one."""
    if not raw:
        return None
    return _parse(raw, region)


def person_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """`07911 654321` → `+447911654321` (possible, if not valid); ValueError when malformed."""
    found = _parse(raw, region)
    if found is None:
        raise ValueError("not a phone number: give the whole number, with its area code")
    return found.e164


def is_verified(e164: str) -> bool:
    """Whether the metadata lists this number's range (False: possible only, or malformed)."""
    found = _parse(e164, DEFAULT_REGION)
    return found is not None and found.verified


# Parsing is the costliest step of answering a call, and the same numbers call again and again.
@lru_cache(maxsize=8192)
def _parse(raw: str, region: str) -> PersonNumber | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    e164 = str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return PersonNumber(e164, bool(phonenumbers.is_valid_number(parsed)))


def is_mobile(e164: str) -> bool:
    """True for a mobile (or mobile-or-fixed) number: one that can receive an SMS."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    return kind in (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def may_text(e164: str) -> bool:
    """Whether to try an SMS to a person's number: a known mobile, or an unverified number
    (its type is unknown, so the carrier decides; a failed text costs less than a person
    in crisis never told where to get help)."""
    found = _parse(e164, DEFAULT_REGION)
    if found is None:
        return False
    return is_mobile(found.e164) if found.verified else True


E164Phone = Annotated[str, AfterValidator(to_e164)]
PersonPhone = Annotated[str, AfterValidator(person_e164)]
