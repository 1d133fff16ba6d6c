"""The advice pages' "services that can help": network services for the page's need, nearest
to a postcode the reader may give, from referral's open directory (Open Referral UK).

Nothing is kept: the postcode is used for that one search (a GET, so the page can be shared
or bookmarked without a form being sent again) and is never logged or stored. When the
directory does not answer, the page says so and still shows how to reach the line.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

import aiohttp
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response

from services.site.deps import SiteDep, of
from services.site.pages import language, render

router = APIRouter(include_in_schema=False)
# Advice page → the need (taxonomy term code) its services are found by.
NEEDS = {"debt": "debt", "housing": "housing", "benefits": "benefits", "work": "employment",
         "loneliness": "isolation", "alcohol-and-drugs": "substance_use",
         "carers-and-families": "carers"}
SHOWN = 10
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( ?[0-9][A-Z]{2})?$")


def install(app: FastAPI) -> None:
    """Add the pages and tell the advice pages which topics have services to find."""
    of(app).pages.env.globals["directory_needs"] = NEEDS
    app.include_router(router)


def _phone(doc: dict[str, Any]) -> str | None:
    for contact in doc.get("contacts") or []:
        for phone in contact.get("phones") or []:
            return str(phone.get("number"))
    return None


def _card(doc: dict[str, Any]) -> dict[str, Any]:
    return {"name": doc.get("name"), "description": doc.get("description"),
            "phone": _phone(doc), "url": doc.get("url"),
            "hours": [s.get("description") for s in doc.get("schedules") or []
                      if s.get("description")],
            "languages": [lang.get("name") or lang.get("code")
                          for lang in doc.get("languages") or []]}


@router.get("/advice/{slug}/services")
async def services(request: Request, site: SiteDep, slug: str) -> Response:
    need = NEEDS.get(slug)
    page = site.library.get(slug, language(request)) if need else None
    if page is None:
        raise HTTPException(404)
    postcode = request.query_params.get("postcode", "").strip().upper()[:10]
    open_now = request.query_params.get("open_now") == "yes"
    error = bool(postcode) and not _POSTCODE.match(postcode)
    params = {"taxonomy_term_id": need, "per_page": str(SHOWN)}
    if postcode and not error:
        params["postcode"] = postcode
    if open_now:
        params["open_now"] = "true"
    reader = site.directory
    cards: list[dict[str, Any]] = []
    unavailable = False
    try:
        status, body = await reader.get(f"/openreferral/services?{urlencode(params)}")
        if status == 200:
            docs = await asyncio.gather(*(reader.get(f"/openreferral/services/{s['id']}")
                                          for s in body["contents"]))
            cards = [_card(d) for st, d in docs if st == 200]
        else:
            unavailable = True
    except (aiohttp.ClientError, TimeoutError, OSError):
        unavailable = True
    return render(request, "advice_services.jinja", {
        "page": page, "slug": slug, "cards": cards, "postcode": postcode, "open_now": open_now,
        "error": error, "unavailable": unavailable},
        headers={"cache-control": "no-store"})
