"""The desk's report page: the month's figures for coordinators and admins, as charts with
their numbers in tables beside them, a CSV download and a "for publication" CSV download.

The figures come from the four services' internal parts (`services.common.figures_api`),
asked for as a sibling service, not on behalf of the person: the page checks the person's
role itself (coordinator or admin; anyone else gets the desk's 404). The URLs carry a month
and nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from services.common.context import H_PERSON_ROLE
from services.common.figures import Month, as_csv, publishable
from services.common.figures_api import FiguresUnavailable, gather
from services.common.http import ServiceClient
from services.desk import deps
from services.desk import report_charts as charts
from services.desk.backend import Unavailable
from services.desk.pages import _render

router = APIRouter(prefix="/desk", include_in_schema=False)
ROLES = frozenset({"coordinator", "admin"})
HISTORY = 12
CHANNELS = {"voice": "Phone calls", "sms": "Texts", "email": "Emails", "web": "Website"}
URGENCIES = ("emergency", "very_urgent", "urgent", "routine")
# Referral's outreach outcomes in the words of the desk's outreach page.
VISIT_OUTCOMES = {"engaged": "Seen: agreed to support", "declined": "Seen: declined support",
                  "safe_no_need": "Seen: safe, needs nothing now",
                  "not_home": "Nobody at home", "moved_away": "Moved away"}


def _allowed(request: Request) -> None:
    if request.headers.get(H_PERSON_ROLE, "") not in ROLES:
        raise HTTPException(404)


def _month(request: Request) -> Month:
    text = request.query_params.get("month")
    if not text:
        return Month.of(deps.of(request.app).clock.now())
    try:
        return Month.parse(text)
    except ValueError:
        raise HTTPException(400) from None


async def _figures(request: Request, months: list[Month]) -> list[dict[str, Any]]:
    settings = deps.of(request.app).settings
    client = ServiceClient(settings, timeout=30)
    await client.start()
    try:
        return list(await asyncio.gather(*(gather(client, m) for m in months)))
    except FiguresUnavailable as exc:
        raise Unavailable(str(exc)) from exc
    finally:
        await client.close()


def _label(month: Month) -> str:
    return f"{_MONTH_NAMES[month.month - 1]} {month.year}"


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")


def _in_words(pairs: list[tuple[str, Any]]) -> str:
    return "; ".join(f"{k}: {'no figure' if v is None else v}" for k, v in pairs) + "."


def build(month: Month, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The page's charts and tables from the last months' figures (oldest first)."""
    labels = [_label(m) for m in month.previous(len(history))]
    now = history[-1]
    people = [f["people_supported"] for f in history]
    ttc = [f["time_to_contact_hours"] for f in history]
    contacts = [(CHANNELS[c], now["contacts"].get(c, 0)) for c in CHANNELS]
    sources = sorted(now["referrals"]["by_source"].items(), key=lambda kv: -kv[1])
    respond = [(u, now["respond_by"][u]) for u in URGENCIES if u in now["respond_by"]]
    words = {u: u.replace("_", " ").capitalize() for u in URGENCIES}
    visits = now.get("outreach_visits") or {"assigned": 0, "by_outcome": {}}
    return {
        "figures": now,
        "visits": {"assigned": visits["assigned"], "rows": [
            (VISIT_OUTCOMES.get(code, code.replace("_", " ").capitalize()), n)
            for code, n in visits["by_outcome"].items()]},
        "people": {"chart": charts.line(
            "people", "People supported each month",
            "Line chart of people supported, last 12 months. "
            + _in_words(list(zip(labels, people, strict=True))), labels, people),
            "rows": list(zip(labels, people, strict=True))},
        "ttc": {"chart": charts.line(
            "ttc", "Median hours from referral to contact",
            "Line chart of the median hours from referral to contact, last 12 months. "
            + _in_words([(lbl, t["median"]) for lbl, t in zip(labels, ttc, strict=True)]),
            labels, [t["median"] for t in ttc]),
            "rows": list(zip(labels, ttc, strict=True))},
        "contacts": {"chart": charts.bars(
            "contacts", f"Contacts by channel, {_label(month)}",
            "Bar chart of contacts by channel. " + _in_words(contacts),
            [c for c, _ in contacts], [("Contacts", [n for _, n in contacts])]),
            "rows": contacts},
        "sources": {"chart": charts.bars(
            "sources", f"Referrals by source, {_label(month)}",
            "Bar chart of referrals by referring organisation. " + _in_words(sources),
            [s for s, _ in sources], [("Referrals", [n for _, n in sources])],
            horizontal=True), "rows": sources},
        "respond": {"chart": charts.bars(
            "respond", f"Respond-by met, by urgency, {_label(month)}",
            "Bar chart of referrals and of those contacted by their respond-by time, by "
            "urgency. " + _in_words([(words[u], f"{r['contacted_in_time']} of "
                                                 f"{r['referrals']}") for u, r in respond]),
            [words[u] for u, _ in respond],
            [("Referrals", [r["referrals"] for _, r in respond]),
             ("Contacted in time", [r["contacted_in_time"] for _, r in respond])]),
            "rows": [(words[u], r["referrals"], r["contacted_in_time"],
                      round(100 * r["contacted_in_time"] / r["referrals"], 1)
                      if r["referrals"] else None) for u, r in respond]},
    }


@router.get("/report")
async def report(request: Request) -> Response:
    _allowed(request)
    month = _month(request)
    history = await _figures(request, month.previous(HISTORY))
    return _render(request, "report.jinja", {"month": str(month), "label": _label(month),
                                             **build(month, history)})


@router.get("/report/charts.css")
async def stylesheet(request: Request) -> Response:
    _allowed(request)
    return Response(charts.stylesheet(), media_type="text/css")


def _download(figures: dict[str, Any], name: str) -> Response:
    return Response(as_csv(figures), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/report/figures.csv")
async def figures_csv(request: Request) -> Response:
    _allowed(request)
    month = _month(request)
    [figures] = await _figures(request, [month])
    return _download(figures, f"living-well-line-{month}.csv")


@router.get("/report/publication.csv")
async def publication_csv(request: Request) -> Response:
    _allowed(request)
    month = _month(request)
    [figures] = await _figures(request, [month])
    return _download(publishable(figures), f"living-well-line-{month}-for-publication.csv")
