"""The contact form as the person filled it in: read, checked, and turned into intake's JSON.

Errors name the field and say what to do, in plain words (translated in the template). Open
access: only what cannot be used is refused (no message, a phone or email that cannot be one);
anything else unusual is passed on for staff to see.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MESSAGE_MAX = 5000
NAME_MAX = 200
EMAIL_MAX = 320  # RFC 5321's limit, and intake's
HONEYPOT = "contact_me_by_fax_only"  # hidden from people; only robots fill it in
WAYS = ("any", "phone", "text", "email")
TIMES = ("any", "morning", "afternoon", "evening")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_token() -> str:
    """The idempotency token a fresh form carries: a double submit sends it twice."""
    return secrets.token_urlsafe(18)


def _clean(value: str | None, limit: int) -> str:
    return (value or "").replace("\x00", "").strip()[:limit]


def _score(raw: str | None, top: int) -> int | None:
    value = (raw or "").strip()
    return int(value) if value.isdigit() and int(value) <= top else None


@dataclass
class ContactForm:
    message: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    preferred_way: str = "any"
    preferred_time: str = "any"
    token: str = field(default_factory=new_token)
    phq9: int | None = None
    phq9_item9: int | None = None
    gad7: int | None = None
    honeypot: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # field -> error kind

    @property
    def has_result(self) -> bool:
        return self.phq9 is not None or self.gad7 is not None

    def intake_payload(self, language: str) -> dict[str, Any]:
        """What intake's `/internal/web-contacts` takes."""
        return {"token": self.token, "message": self.message, "name": self.name or None,
                "phone": self.phone or None, "email": self.email or None,
                "preferred_way": self.preferred_way, "preferred_time": self.preferred_time,
                "language": language, "phq9": self.phq9, "phq9_item9": self.phq9_item9,
                "gad7": self.gad7, "suspected_spam": self.honeypot}


def read(form: Mapping[str, str]) -> ContactForm:
    """Read the posted fields (nothing is checked yet)."""
    token = form.get("token", "")
    way, when = form.get("preferred_way", "any"), form.get("preferred_time", "any")
    parsed = ContactForm(
        message=(form.get("message") or "").replace("\x00", "").strip(),
        name=_clean(form.get("name"), NAME_MAX * 2), phone=_clean(form.get("phone"), 60),
        email=_clean(form.get("email"), 400),
        preferred_way=way if way in WAYS else "any",
        preferred_time=when if when in TIMES else "any",
        token=token if _TOKEN.match(token) else new_token(),
        phq9=_score(form.get("phq9"), 27), phq9_item9=_score(form.get("phq9_item9"), 3),
        gad7=_score(form.get("gad7"), 21), honeypot=bool((form.get(HONEYPOT) or "").strip()))
    if form.get("include_result") == "no":
        parsed.phq9 = parsed.phq9_item9 = parsed.gad7 = None
    return parsed


def check(parsed: ContactForm) -> ContactForm:
    """Fill `errors`: each field with what is wrong (`required`, `too_long`, `invalid`)."""
    errors: dict[str, str] = {}
    if not parsed.message:
        errors["message"] = "required"
    elif len(parsed.message) > MESSAGE_MAX:
        errors["message"] = "too_long"
    if len(parsed.name) > NAME_MAX:
        errors["name"] = "too_long"
    if parsed.phone and (not _PHONE.match(parsed.phone)
                         or sum(c.isdigit() for c in parsed.phone) < 6):
        errors["phone"] = "invalid"
    if parsed.email and (len(parsed.email) > EMAIL_MAX or not _EMAIL.match(parsed.email)):
        errors["email"] = "invalid"
    if parsed.preferred_way == "email" and not parsed.email and "email" not in errors:
        errors["email"] = "required_for_way"
    if parsed.preferred_way in ("phone", "text") and not parsed.phone and "phone" not in errors:
        errors["phone"] = "required_for_way"
    parsed.errors = errors
    return parsed
