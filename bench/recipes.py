"""The requests the benchmark sends: signed Twilio voice webhooks and partner referrals.

Every request is distinct (its own CallSid, its own person and Idempotency-Key), so the
system does the real work of a new call or a new referral each time, never a replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

Request = tuple[str, dict[str, str], bytes]
POSTCODES = ("SW2 1AA", "SE11 4AA", "SE27 9AA", "SW4 7AA", "SE24 0AA", "SW16 1AA")
NEEDS: tuple[list[str], ...] = (["housing"], ["isolation"], [], ["debt", "benefits"],
                                 ["substance_use"])


def voice_requests(recipe: dict[str, Any], count: int, seed: str) -> Iterator[Request]:
    """Incoming-call webhooks, each signed as Twilio signs them for the public URL."""
    validator = RequestValidator(recipe["auth_token"])
    url = recipe["public_url"].rstrip("/") + recipe["path"]
    for i in range(count):
        params = {"CallSid": f"CA{seed}{i:024d}", "AccountSid": recipe["account_sid"],
                  "From": f"+447911{i % 1000000:06d}", "To": recipe["to"],
                  "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(url, params)}
        yield recipe["path"], headers, urlencode(params).encode()


def referral_body(i: int, seed: str) -> dict[str, Any]:
    """A routine partner referral for a new person (no real person's details)."""
    return {
        "subject": {"given_name": "Bench", "family_name": f"Person{seed}{i}",
                    "email": f"bench-{seed}-{i}@example.org",
                    "postcode": POSTCODES[i % len(POSTCODES)], "preferred_language": "en"},
        "reason": "Benchmark referral: asked for support after a difficult week.",
        "needs": NEEDS[i % len(NEEDS)],
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        "urgency": "routine", "consent": {"subject_informed": True},
        "referrer": {"name": "Bench Referrer", "role": "Housing officer"},
        "external_reference": f"BENCH-{seed}-{i}",
    }


def emergency_body(seed: str) -> dict[str, Any]:
    """An emergency partner referral (immediate danger): the one sent in the middle of a
    surge of routine ones, to time how soon its handoff overtakes them."""
    body = referral_body(0, f"{seed}-emergency")
    body["risk"]["immediate_danger"] = True
    body["urgency"] = "emergency"
    body["needs"] = []
    return body


def referral_requests(recipe: dict[str, Any], count: int, seed: str) -> Iterator[Request]:
    """`POST /api/v1/referrals`, spread over the partner keys given."""
    keys = recipe["keys"]
    for i in range(count):
        headers = {"Content-Type": "application/json",
                   "Authorization": f"Bearer {keys[i % len(keys)]}",
                   "Idempotency-Key": f"bench-{seed}-{i}"}
        yield recipe["path"], headers, json.dumps(referral_body(i, seed)).encode()


def page_requests(recipe: dict[str, Any], count: int) -> Iterator[Request]:
    """`GET` of one page, as a browser asks for it; `headers` adds to it (a desk page's
    session cookie)."""
    headers = {"Accept": "text/html", "Accept-Language": recipe.get("language", "en"),
               **recipe.get("headers", {})}
    for _ in range(count):
        yield recipe["path"], headers, b""


def build_requests(recipe: dict[str, Any], count: int, seed: str) -> Iterator[Request]:
    """The requests of one recipe (`voice`, `referral` or `page`)."""
    if recipe["kind"] == "page":
        return page_requests(recipe, count)
    if recipe["kind"] == "voice":
        return voice_requests(recipe, count, seed)
    if recipe["kind"] == "referral":
        return referral_requests(recipe, count, seed)
    raise ValueError(f"unknown recipe {recipe['kind']!r}")
