"""The desk's network directory pages: from a person's page, find a service (by need, near
their postcode, in their language, open now) and send them its details by text or email
with their agreement.

The search starts filled in from the referral (its first need, the person's postcode and
language) so the nearest match is one tap away; sending is one form per service carrying a
fresh key, so a double tap or a refresh sends once. The form offers only the channels the
referral holds a way to reach (a phone number to text, an email address) and says why the
other is missing; the usual one is chosen already, so sending stays two taps. URLs hold the
reference and the service id only (the postcode travels in the query string of a page that
is never cached).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.desk.pages import _backend, _found, _reference, _render

router = APIRouter(prefix="/desk", include_in_schema=False)
NEEDS = {"housing": "Housing", "debt": "Debt", "benefits": "Benefits",
         "employment": "Employment", "isolation": "Isolation and peer support",
         "substance_use": "Drugs and alcohol", "physical_health": "Physical health",
         "carers": "Carers"}
SHOWN = 10
# How each way of sending is offered, confirmed and explained when it cannot be used.
CHANNELS = {"sms": {"label": "Text message (SMS)", "button": "Text them these details",
                    "done": "by text", "missing": "no mobile number"},
            "email": {"label": "Email", "button": "Email them these details",
                      "done": "by email", "missing": "no email address"}}


def _channels(r: dict[str, Any]) -> list[str]:
    """The ways this referral lets us send details: a phone number to text, an email address.
    Referral checks again when it sends (and says which one it refused)."""
    s = r.get("subject") or {}
    return [c for c, field in (("sms", "phone"), ("email", "email")) if s.get(field)]


def _defaults(r: dict[str, Any]) -> dict[str, str]:
    s = r.get("subject") or {}
    needs = [n for n in r.get("needs") or [] if n in NEEDS]
    language = str(s.get("preferred_language") or "")
    return {"need": needs[0] if needs else "", "postcode": str(s.get("postcode") or ""),
            "language": "" if language in ("", "en") else language, "open_now": ""}


async def _details(request: Request, service_id: str) -> dict[str, Any] | None:
    answer = await _backend(request).call(request, "GET", "referral",
                                          f"/openreferral/services/{service_id}")
    return dict(answer.body) if answer.ok else None


def _phone(doc: dict[str, Any]) -> str | None:
    for contact in doc.get("contacts") or []:
        for phone in contact.get("phones") or []:
            return str(phone.get("number"))
    return None


def _card(doc: dict[str, Any]) -> dict[str, Any]:
    """What a key worker needs to choose: name, who runs it, phone, web, hours, languages."""
    return {"id": doc["id"], "name": doc.get("name"), "description": doc.get("description"),
            "organization": (doc.get("organization") or {}).get("name"),
            "phone": _phone(doc), "url": doc.get("url"),
            "hours": [s.get("description") or f"{s.get('byday')} {s.get('opens_at')}"
                      for s in doc.get("schedules") or []],
            "languages": [lang.get("name") or lang.get("code")
                          for lang in doc.get("languages") or []],
            "key": secrets.token_urlsafe(12)}


@router.get("/r/{reference}/services")
async def find(request: Request, reference: str) -> Response:
    reference = _reference(reference)
    backend = _backend(request)
    r = _found(await backend.call(request, "GET", "referral",
                                  f"/api/v1/desk/referrals/{reference}"))
    q = request.query_params
    wanted = _defaults(r) if "need" not in q else {
        "need": q.get("need", ""), "postcode": q.get("postcode", "")[:10],
        "language": q.get("language", "")[:3], "open_now": q.get("open_now", "")}
    params = {k: v for k, v in {"taxonomy_term_id": wanted["need"],
                                "postcode": wanted["postcode"].strip(),
                                "language": wanted["language"].strip().lower(),
                                "open_now": "true" if wanted["open_now"] else "",
                                "per_page": str(SHOWN)}.items() if v}
    answer = await backend.call(request, "GET", "referral",
                                f"/openreferral/services?{urlencode(params)}")
    errors: list[tuple[str, str]] = []
    cards: list[dict[str, Any]] = []
    if answer.status == 422:
        field = {"taxonomy_term_id": "need"}.get(answer.body["errors"][0]["loc"][-1],
                                                 answer.body["errors"][0]["loc"][-1])
        errors.append((field, {"postcode": "Enter a postcode like SW2 1AA, or a district like "
                                           "SW2",
                               "language": "Enter a language code like pl or pt"}.get(
                                   field, "Check this search")))
    elif answer.ok:
        docs = await asyncio.gather(*(_details(request, s["id"])
                                      for s in answer.body["contents"]))
        cards = [_card(d) for d in docs if d is not None]
    sent = await backend.call(request, "GET", "referral",
                              f"/api/v1/desk/referrals/{reference}/signposts")
    by = q.get("by") or "sms"
    return _render(request, "directory_search.jinja", {
        "r": r, "q": wanted, "needs": NEEDS, "cards": cards, "errors": errors,
        "total": answer.body.get("total_items", 0) if answer.ok else 0,
        "sent": sent.body if sent.ok else [], "just_sent": q.get("sent"),
        "channels": CHANNELS, "usable": _channels(r),
        "by": CHANNELS.get(by, CHANNELS["sms"])})


@router.post("/r/{reference}/services/{service_id}/send")
async def send(request: Request, reference: str, service_id: str) -> Response:
    reference = _reference(reference)
    form = await request.form()
    agreed = form.get("agreed") == "yes"
    # A form shown before email was offered has no channel: it was a text.
    channel = str(form.get("channel") or "sms")
    channel = channel if channel in CHANNELS else "sms"
    back = f"/desk/r/{reference}/services"
    if not agreed:
        return RedirectResponse(f"{back}?{urlencode({'unagreed': service_id})}", status_code=303)
    answer = await _backend(request).call(
        request, "POST", "referral", f"/api/v1/desk/referrals/{reference}/signposts",
        {"service_id": service_id[:36], "agreed": True, "channel": channel,
         "key": str(form.get("key", ""))[:100] or secrets.token_urlsafe(12)})
    if answer.status in (403, 404):
        _found(answer)
    if answer.ok:
        done = {"sent": answer.body["service_name"], "by": answer.body["channel"]}
        return RedirectResponse(f"{back}?{urlencode(done)}", status_code=303)
    return RedirectResponse(f"{back}?{urlencode({'failed': service_id, 'by': channel})}",
                            status_code=303)
