"""NHS numbers: ten digits whose last is a Modulus 11 check digit."""

from __future__ import annotations

import re

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def normalise_nhs_number(raw: str) -> str:
    """`943 476 5919` → `9434765919`; raises ValueError unless the check digit is right
    and the digits are not all the same."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise ValueError("an NHS number has ten digits")
    if len(set(digits)) == 1:  # 1111111111 passes Modulus 11 but is a placeholder, not a person
        raise ValueError("not a valid NHS number (ten identical digits)")
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise ValueError("not a valid NHS number (the check digit does not match)")
    return digits
