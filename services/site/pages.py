"""The site's routes: parse, call the domain or intake, render or redirect (POST → 303 → GET).

Nothing personal is ever put in a URL or a log line: the confirmation page's address is a
signed receipt holding the reference and two flags, and logs carry events and references.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.common.promises import promises, span
from services.common.web import translations_var
from services.site import forms, kept, scoring
from services.site.deps import SiteDep, of
from services.site.i18n import COOKIE, LANGUAGES, choose
from services.site.intake_client import IntakeUnavailable
from services.site.tokens import Receipt

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 32_768
NO_STORE = {"cache-control": "no-store"}
QUESTIONNAIRES: tuple[scoring.Questionnaire, ...] = ("phq9", "gad7")
TOKEN_SLOT = "form-token-slot-0000"


def language(request: Request) -> str:
    return choose(request.cookies.get(COOKIE), request.headers.get("accept-language"))


def _body(request: Request, lang: str, name: str, context: dict[str, Any] | None) -> str:
    site = of(request.app)
    token = translations_var.set(site.catalogues[lang])
    try:
        return str(site.pages.render(name, {"request": request, "lang": lang,
                                            "languages": LANGUAGES, "path": request.url.path,
                                            **(context or {})}))
    finally:
        translations_var.reset(token)


def _page(body: str, lang: str, status_code: int, headers: dict[str, str] | None
          ) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers={
        "content-language": lang, "vary": "Accept-Language, Cookie", **(headers or {})})


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page in the request's language, with what every page needs."""
    lang = language(request)
    return _page(_body(request, lang, name, context), lang, status_code, headers)


def cached(request: Request, name: str, context: dict[str, Any] | None = None, *,
           headers: dict[str, str] | None = None, fill: dict[str, str] | None = None
           ) -> Response:
    """A page that is the same for everyone in a language (and at this path), rendered once:
    the design system's macros cost milliseconds a form (60 ms for both questionnaires), and
    a mention on the news brings thousands at once. `fill` replaces per-request slots; a
    page without any is kept ready to send (`kept.py`: `public, max-age=300` and an ETag
    unless `headers` sets its `cache-control`)."""
    site = of(request.app)
    lang = language(request)
    if not fill:
        page = site.kept.get((lang, request.url.path))
        if page is None:
            page = site.kept[(lang, request.url.path)] = kept.keep(
                _body(request, lang, name, context), lang,
                (headers or {}).get("cache-control"), request.scope.get("route"))
        return kept.KeptResponse(page)
    key = (lang, request.url.path, name)
    body = site.page_cache.get(key)
    if body is None:
        body = site.page_cache[key] = _body(request, lang, name, context)
    for slot, value in fill.items():
        body = body.replace(slot, value)
    return _page(body, lang, 200, headers)


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded body, refused past `MAX_FORM_BYTES` (a message is at most 5,000 chars)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413)
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                      max_num_fields=100)
    return dict(pairs)


@router.get("/")
async def home(request: Request, site: SiteDep) -> Response:
    return cached(request, "home.jinja", {"advice": site.library.index(language(request))[:4]})


@router.get("/help")
async def urgent_help(request: Request) -> Response:
    return cached(request, "help.jinja")


@router.get("/advice")
async def advice_index(request: Request, site: SiteDep) -> Response:
    return cached(request, "advice_index.jinja",
                  {"advice": site.library.index(language(request))})


@router.get("/advice/{slug}")
async def advice_page(request: Request, site: SiteDep, slug: str) -> Response:
    page = site.library.get(slug, language(request))
    if page is None:
        raise HTTPException(404)
    return cached(request, "advice_page.jinja", {"page": page})


@router.get("/accessibility")
async def accessibility(request: Request) -> Response:
    return cached(request, "accessibility.jinja")


@router.get("/privacy")
async def privacy(request: Request) -> Response:
    return cached(request, "privacy.jinja")


@router.get("/lang/{code}")
async def switch_language(request: Request, site: SiteDep, code: str,
                          next: str = "/") -> Response:
    """The visible switcher: remembers the choice in a cookie (nothing else) and goes back."""
    if code not in LANGUAGES:
        raise HTTPException(404)
    target = next if next.startswith("/") and not next.startswith(("//", "/\\")) else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(COOKIE, code, max_age=365 * 86400, path="/", httponly=True,
                    samesite="lax", secure=site.secure_cookies)
    return resp


def _questionnaires(request: Request, *, scores: dict[str, scoring.Score] | None = None,
                    errors: list[str] | None = None, urgent: bool = False,
                    answers: dict[str, str] | None = None) -> dict[str, Any]:
    site = of(request.app)
    lang = language(request)
    texts = {name: site.questionnaires[name].get(lang) or site.questionnaires[name]["en"]
             for name in QUESTIONNAIRES}
    return {"questionnaires": texts, "scores": scores or {}, "errors": errors or [],
            "urgent": urgent, "answers": answers or {}}


def _self_assessment(request: Request, *, scores: dict[str, scoring.Score] | None = None,
                     errors: list[str] | None = None, urgent: bool = False,
                     answers: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = _questionnaires(request, scores=scores, errors=errors, urgent=urgent,
                              answers=answers)
    return render(request, "self_assessment.jinja", context, status_code=status_code,
                  headers=NO_STORE)


@router.get("/self-assessment")
async def self_assessment(request: Request) -> Response:
    return cached(request, "self_assessment.jinja", _questionnaires(request),
                  headers=NO_STORE)


@router.post("/self-assessment")
async def score_self_assessment(request: Request) -> Response:
    """Score what was answered; nothing is kept. Item 9 above 0 shows urgent help first."""
    form = await _form(request)
    which = form.get("questionnaire")
    name: scoring.Questionnaire = next((q for q in QUESTIONNAIRES if q == which), "phq9")
    urgent = name == "phq9" and scoring.item9_answered_above_0(form)
    try:
        result = scoring.score(name, form)
    except scoring.Unanswered as exc:
        return _self_assessment(request, errors=exc.fields, urgent=urgent, answers=form,
                                status_code=422)
    return _self_assessment(request, scores={name: result}, urgent=result.urgent,
                            answers=form)


def _contact_page(request: Request, parsed: forms.ContactForm, *, status_code: int = 200,
                  unavailable: bool = False) -> Response:
    return render(request, "contact.jinja", {"form": parsed, "unavailable": unavailable,
                                             "honeypot": forms.HONEYPOT},
                  status_code=status_code, headers=NO_STORE)


@router.get("/contact")
async def contact(request: Request) -> Response:
    # Each form gets its own idempotency token, put into the page rendered once.
    return cached(request, "contact.jinja", {
        "form": forms.ContactForm(token=TOKEN_SLOT), "unavailable": False,
        "honeypot": forms.HONEYPOT}, headers=NO_STORE, fill={TOKEN_SLOT: forms.new_token()})


@router.post("/contact")
async def send_contact(request: Request, site: SiteDep) -> Response:
    """Hand the message to intake and redirect to the receipt; errors re-render the form."""
    raw = await _form(request)
    parsed = forms.read(raw)
    if raw.get("start") == "with_result":  # from a self-assessment result: not sent yet
        return _contact_page(request, parsed)
    forms.check(parsed)
    if parsed.errors:
        return _contact_page(request, parsed, status_code=422)
    try:
        answer = await site.sender.send(parsed.intake_payload(language(request)))
    except IntakeUnavailable as exc:
        log.error("intake did not take a web contact", extra={
            "event": "site.intake_unavailable", "error": str(exc)})
        return _contact_page(request, parsed, status_code=503, unavailable=True)
    window = answer.get("response_window_seconds")
    receipt = Receipt(reference=answer.get("reference"), crisis=bool(answer.get("crisis")),
                      urgency=str(answer.get("urgency") or "routine"),
                      held=bool(answer.get("held")),
                      window=window if isinstance(window, int) and window > 0 else None)
    log.info("web contact sent", extra={"event": "site.contact_sent",
                                        "reference": receipt.reference})
    token = site.signer.sign(receipt, site.now())
    return RedirectResponse(f"/contact/sent/{token}", status_code=303)


@router.get("/contact/sent/{token}")
async def contact_sent(request: Request, site: SiteDep, token: str) -> Response:
    receipt = site.signer.verify(token, site.now())
    if receipt is None:
        raise HTTPException(404)
    unit, count = reply_window(receipt)
    return render(request, "contact_sent.jinja", {"receipt": receipt, "unit": unit,
                                                  "count": count}, headers=NO_STORE)


def reply_window(receipt: Receipt) -> tuple[str, int]:
    """When we will reply, as (unit, count) for the page's own words: the window intake
    answered for this contact (the one its texts and emails promise), in the units they use
    (`services.common.promises.span`). From an intake that did not say, the same routing
    rules' window for the urgency."""
    if receipt.window is not None:
        return span(timedelta(seconds=receipt.window))
    return span(promises().window(receipt.urgency))
