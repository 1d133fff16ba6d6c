"""The desk's service form ↔ an Open Referral UK service document, with no HTTP in sight.

A coordinator edits the fields they need (name, description, organisation, phone, email, web,
address and postcode, opening times, needs, languages, service areas); everything else the
document carries (ids, other addresses, other contacts, fields from another council's import)
is kept as it was, so editing a service in the desk never loses what the form does not show.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError

FIELDS = ("name", "description", "organization", "phone", "email", "url", "address",
          "postcode", "hours", "languages", "areas")
LIMITS = {"description": 2000, "hours": 1000}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_HOURS = re.compile(r"^([A-Z]{2}(?:\s*,\s*[A-Z]{2})*)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass
class Form:
    """What the coordinator typed (or what the service holds, to fill the form in)."""

    values: dict[str, str]
    needs: list[str] = field(default_factory=list)

    @classmethod
    def posted(cls, raw: Any) -> Form:
        values = {f: str(raw.get(f, "")).strip()[:LIMITS.get(f, 300)] for f in FIELDS}
        needs = [str(n)[:36] for n in raw.getlist("needs")][:20]
        return cls(values, needs)


def _first_phone(doc: dict[str, Any]) -> dict[str, Any] | None:
    for contact in doc.get("contacts") or []:
        for phone in contact.get("phones") or []:
            return dict(phone)
    return None


def _first_address(doc: dict[str, Any]) -> dict[str, Any] | None:
    for sal in doc.get("service_at_locations") or []:
        for address in (sal.get("location") or {}).get("addresses") or []:
            return dict(address)
    return None


def _hours_line(s: dict[str, Any]) -> str:
    return f"{s.get('byday') or ''} {str(s.get('opens_at') or '')[:5]}-" \
           f"{str(s.get('closes_at') or '')[:5]}"


def form_of(doc: dict[str, Any]) -> Form:
    """The form filled in from a service document."""
    phone = _first_phone(doc) or {}
    address = _first_address(doc) or {}
    return Form({
        "name": doc.get("name") or "", "description": doc.get("description") or "",
        "organization": (doc.get("organization") or {}).get("name") or "",
        "phone": phone.get("number") or "", "email": doc.get("email") or "",
        "url": doc.get("url") or "", "address": address.get("address_1") or "",
        "postcode": address.get("postal_code") or "",
        "hours": "\n".join(_hours_line(s) for s in doc.get("schedules") or []
                           if s.get("byday") and s.get("opens_at")),
        "languages": ", ".join(str(lang.get("code")) for lang in doc.get("languages") or []
                               if lang.get("code")),
        "areas": ", ".join(str(a.get("name")) for a in doc.get("service_areas") or []
                           if a.get("name"))},
        [str(a.get("taxonomy_term_id")) for a in doc.get("attributes") or []
         if a.get("taxonomy_term_id")])


def _schedule(line: str) -> dict[str, str] | None:
    found = _HOURS.match(line.strip().upper())
    if not found:
        return None
    days, oh, om, ch, cm = found.groups()
    byday = ",".join(d.strip() for d in days.split(","))
    if any(d not in DAYS for d in byday.split(",")):
        return None
    opens, closes = (int(oh), int(om)), (int(ch), int(cm))
    if not (opens < closes <= (24, 0)) or om >= "60" or cm >= "60":
        return None
    return {"byday": byday, "opens_at": f"{opens[0]:02d}:{opens[1]:02d}:00",
            "closes_at": f"{closes[0]:02d}:{closes[1]:02d}:00"}


def _list(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def errors_of(form: Form, terms: dict[str, str]) -> list[tuple[str, str]]:
    """Each field the coordinator must fix, with what to do, in the form's order."""
    v = form.values
    out: list[tuple[str, str]] = []
    if not v["name"]:
        out.append(("name", "Enter the service's name"))
    if v["phone"] and not _PHONE.match(v["phone"]):
        out.append(("phone", "Enter a phone number like 020 7946 0102"))
    if v["email"] and not _EMAIL.match(v["email"]):
        out.append(("email", "Enter an email address like advice@example.org"))
    if v["url"] and not _URL.match(v["url"]):
        out.append(("url", "Enter a web address starting https://"))
    if v["postcode"] and not _POSTCODE.match(v["postcode"].upper()):
        out.append(("postcode", "Enter a full postcode like SW9 9AA"))
    if v["address"] and not v["postcode"]:
        out.append(("postcode", "Enter the address's postcode"))
    bad_hours = [n for n, line in enumerate(v["hours"].splitlines(), 1)
                 if line.strip() and _schedule(line) is None]
    if bad_hours:
        out.append(("hours", f"Line {bad_hours[0]} of the opening times: write days and hours "
                             "like MO,TU,WE 09:00-17:00"))
    if any(not _LANGUAGE.match(code.lower()) for code in _list(v["languages"])):
        out.append(("languages", "Enter language codes like en, pl, pt, separated by commas"))
    if any(n not in terms for n in form.needs):
        out.append(("needs", "Choose needs from the list"))
    return out


def _language_name(code: str) -> str | None:
    try:
        name = Locale.parse(code).get_language_name("en")
    except (ValueError, UnknownLocaleError):
        return None
    return str(name) if name else None


def _new_id() -> str:
    return str(uuid.uuid4())


def _merge(old: list[dict[str, Any]], keys: list[Any], key_of: Any,
           make: Any) -> list[dict[str, Any]]:
    """The new list in the form's order: an item the service had already is kept whole."""
    had = {key_of(item): item for item in old}
    return [had.get(k) or make(k) for k in keys]


def document(form: Form, old: dict[str, Any] | None, org: dict[str, Any] | None
             ) -> dict[str, Any]:
    """The service document to save: `old` (None when adding) with the form's fields on it;
    `org` is an existing organisation of the same name, shared rather than duplicated."""
    v = form.values
    doc: dict[str, Any] = (copy.deepcopy(old) if old
                           else {"id": _new_id(), "status": "active"})
    for key, value in (("name", v["name"]), ("description", v["description"]),
                       ("email", v["email"]), ("url", v["url"])):
        if value:
            doc[key] = value
        else:
            doc.pop(key, None)
    doc.pop("last_modified", None)  # the directory stamps it
    current = doc.get("organization") or {}
    if not v["organization"]:
        doc.pop("organization", None)
        doc.pop("organization_id", None)
    elif current.get("name") != v["organization"]:
        doc["organization"] = org or {"id": _new_id(), "name": v["organization"]}
        doc["organization_id"] = doc["organization"]["id"]
    _set_phone(doc, v["phone"])
    _set_address(doc, v["address"], v["postcode"].upper())
    lines = [s for s in (_schedule(line) for line in v["hours"].splitlines()) if s]
    doc["schedules"] = _merge(
        doc.get("schedules") or [], [tuple(s.values()) for s in lines],
        lambda s: (s.get("byday"), s.get("opens_at"), s.get("closes_at")),
        lambda k: {"id": _new_id(), "freq": "WEEKLY", "interval": 1,
                   **dict(zip(("byday", "opens_at", "closes_at"), k, strict=True))})
    doc["languages"] = _merge(
        doc.get("languages") or [], [c.lower() for c in _list(v["languages"])],
        lambda lang: lang.get("code"),
        lambda c: {"id": _new_id(), "code": c,
                   **({"name": n} if (n := _language_name(c)) else {})})
    doc["service_areas"] = _merge(doc.get("service_areas") or [], _list(v["areas"]),
                                  lambda a: a.get("name"),
                                  lambda n: {"id": _new_id(), "name": n})
    doc["attributes"] = _merge(doc.get("attributes") or [], list(dict.fromkeys(form.needs)),
                               lambda a: a.get("taxonomy_term_id"),
                               lambda t: {"id": _new_id(), "taxonomy_term_id": t})
    return doc


def _set_phone(doc: dict[str, Any], number: str) -> None:
    contacts = doc.setdefault("contacts", [])
    for contact in contacts:
        if contact.get("phones"):
            if number:
                contact["phones"][0]["number"] = number
            else:
                contact["phones"].pop(0)
            return
    if number:
        contacts.append({"id": _new_id(), "name": "Phone",
                         "phones": [{"id": _new_id(), "number": number}]})


def _set_address(doc: dict[str, Any], line: str, postcode: str) -> None:
    for sal in doc.get("service_at_locations") or []:
        location = sal.get("location") or {}
        for address in location.get("addresses") or []:
            if postcode:
                address["address_1"] = line or address.get("address_1") or ""
                address["postal_code"] = postcode
            else:
                location["addresses"].remove(address)
            return
    if postcode:
        location = {"id": _new_id(), "location_type": "physical", "name": doc["name"],
                    "addresses": [{"id": _new_id(), "address_1": line, "city": "London",
                                   "state_province": "Greater London",
                                   "postal_code": postcode, "country": "GB",
                                   "address_type": "physical"}]}
        doc.setdefault("service_at_locations", []).append(
            {"id": _new_id(), "location": location})
