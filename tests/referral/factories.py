"""Small builders of referral requests."""

from __future__ import annotations

from typing import Any

from tests.support.service import key_headers

POLICE = key_headers("Metropolitan Police Lambeth", "partner")
HOUSING = key_headers("Lambeth Housing", "partner")
STAFF = key_headers("Living Well Hub", "staff")


def referral_body(**overrides: Any) -> dict[str, Any]:
    """A complete, valid partner referral; override any top-level field."""
    body: dict[str, Any] = {
        "subject": {"given_name": "Sam", "family_name": "Example", "date_of_birth": "1990-04-01",
                    "nhs_number": "9434765919", "phone": "07911 123456",
                    "email": "sam@example.org", "postcode": "SW2 1AA",
                    "preferred_language": "en"},
        "reason": "Met on patrol, low and not sleeping.",
        "needs": ["housing"],
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        "urgency": "urgent",
        "consent": {"subject_informed": True},
        "referrer": {"name": "PC Example", "role": "Police officer", "phone": "020 7946 0000",
                     "email": "pc@example.police.uk"},
        "external_reference": "CAD-1234",
    }
    body.update(overrides)
    return body


def subject(**overrides: Any) -> dict[str, Any]:
    out = dict(referral_body()["subject"])
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}
