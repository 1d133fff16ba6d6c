"""The desk's pages: routes stay thin (parse the form, call the service, render or redirect).

Every action is a plain form (POST → redirect → GET) carrying the session's CSRF token, which
the gateway checks before the request gets here. URLs hold a referral's reference at most;
titles never name a person.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from services.common.context import H_CSRF, H_PERSON_ROLE
from services.common.web import Pages
from services.desk import deps
from services.desk.backend import Answer, Backend
from services.desk.kept import kept

HERE = Path(__file__).parent
LONDON = ZoneInfo("Europe/London")
REFERENCE = re.compile(r"^LW-[0-9A-Z]{4}-[0-9A-Z]{4}$")
ATTEMPTS = {"reached": "Reached them", "no_answer": "No answer",
            "left_message": "Left a message", "wrong_number": "Wrong number"}
# After an accept, how long the page waits for referral to hear of it before saying so.
ACCEPT_POLLS = 20
ACCEPT_POLL_SECONDS = 0.25
URGENCY = {"emergency": "Emergency", "very_urgent": "Very urgent", "urgent": "Urgent",
           "routine": "Routine"}


def _local(value: str | None) -> str:
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at.astimezone(LONDON).strftime("%H:%M, %d %B %Y")


def _time_left(value: str | None, now: datetime) -> str:
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    minutes = int((at - now).total_seconds() // 60)
    if minutes < 0:
        return f"overdue by {_span(-minutes)}"
    return f"{_span(minutes)} left"


def _span(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    if hours >= 24:
        return f"{hours // 24} days {hours % 24} hours"
    return f"{hours} hours {mins} minutes" if hours else f"{mins} minutes"


pages = Pages([HERE / "templates"], globals_={"assetPath": "/desk/static",
                                              "urgency_words": URGENCY,
                                              "attempt_words": ATTEMPTS, "kept": kept})
pages.env.filters["local"] = _local
pages.env.filters["time_left"] = _time_left
router = APIRouter(prefix="/desk", include_in_schema=False)


def _backend(request: Request) -> Backend:
    return deps.of(request.app).backend


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    base = {"csrf_token": request.headers.get(H_CSRF, ""),
            "role": request.headers.get(H_PERSON_ROLE, ""),
            "now": deps.of(request.app).clock.now()}
    return pages.response(request, name, {**base, **context}, status_code=status)


def _reference(reference: str) -> str:
    if not REFERENCE.match(reference):
        raise HTTPException(404)
    return reference


def _found(answer: Answer) -> Any:
    if answer.status in (403, 404):
        raise HTTPException(404)
    if not answer.ok:
        raise HTTPException(400)
    return answer.body


@router.get("/")
async def home(request: Request) -> Response:
    backend = _backend(request)
    handoffs = _found(await backend.call(request, "GET", "notify", "/api/v1/desk/handoffs"))
    people = _found(await backend.call(request, "GET", "referral", "/api/v1/desk/people"))
    return _render(request, "home.jinja", {"handoffs": handoffs, "people": people})


@router.get("/h/{reference}")
async def handoff(request: Request, reference: str) -> Response:
    reference = _reference(reference)
    h = _found(await _backend(request).call(request, "GET", "notify",
                                            f"/api/v1/desk/handoffs/{reference}"))
    return _render(request, "handoff.jinja", {"h": h})


@router.post("/h/{reference}/{decision}")
async def decide(request: Request, reference: str, decision: str) -> Response:
    reference = _reference(reference)
    if decision not in ("accept", "decline"):
        raise HTTPException(404)
    answer = _found(await _backend(request).call(
        request, "POST", "notify", f"/api/v1/desk/handoffs/{reference}/decision",
        {"decision": decision}))
    if answer.get("result") in ("accepted", "already_accepted"):
        return RedirectResponse(f"/desk/r/{reference}", status_code=303)
    return RedirectResponse(f"/desk/h/{reference}", status_code=303)


@router.get("/r/{reference}")
async def referral(request: Request, reference: str) -> Response:
    reference = _reference(reference)
    backend = _backend(request)
    answer = await backend.call(request, "GET", "referral", f"/api/v1/desk/referrals/{reference}")
    if answer.status == 404:
        # Just accepted: notify tells referral through its outbox, a moment behind the page.
        h = await backend.call(request, "GET", "notify", f"/api/v1/desk/handoffs/{reference}")
        if h.ok and h.body.get("accepted_by_me"):
            for _ in range(ACCEPT_POLLS):
                await asyncio.sleep(ACCEPT_POLL_SECONDS)
                answer = await backend.call(request, "GET", "referral",
                                            f"/api/v1/desk/referrals/{reference}")
                if answer.status != 404:
                    break
            else:
                return _render(request, "recording.jinja", {"reference": reference})
    r = _found(answer)
    r["contacts"] = await _story(request, r.get("person_id"))
    return _render(request, "referral.jinja", {"r": r, "errors": []})


async def _story(request: Request, person_id: str | None) -> list[Any]:
    """The person's contacts on every channel, from intake (which applies its own rule)."""
    if not person_id:
        return []
    answer = await _backend(request).call(request, "GET", "intake",
                                          f"/api/v1/desk/people/{person_id}/contacts")
    return list(answer.body) if answer.ok and isinstance(answer.body, list) else []


async def _form_action(request: Request, reference: str, action: str,
                       payload: dict[str, Any]) -> Response:
    answer = await _backend(request).call(
        request, "POST", "referral", f"/api/v1/desk/referrals/{reference}/{action}", payload)
    if answer.status == 422:
        r = _found(await _backend(request).call(request, "GET", "referral",
                                                f"/api/v1/desk/referrals/{reference}"))
        r["contacts"] = await _story(request, r.get("person_id"))
        field, message = {
            "attempts": ("result", "Choose what happened when you tried to reach them"),
            "notes": ("text", "Enter a note"), "close": ("outcome", "Choose the outcome"),
            "plan": ("what_matters", "Say what matters to the person (and check the review "
                                     "date)")}[action]
        return _render(request, "referral.jinja", {"r": r, "errors": [(field, message)]},
                       status=422)
    _found(answer)
    return RedirectResponse(f"/desk/r/{reference}", status_code=303)


@router.post("/r/{reference}/attempts")
async def attempt(request: Request, reference: str) -> Response:
    form = await request.form()
    return await _form_action(request, _reference(reference), "attempts",
                              {"result": str(form.get("result", ""))})


@router.post("/r/{reference}/notes")
async def note(request: Request, reference: str) -> Response:
    form = await request.form()
    return await _form_action(request, _reference(reference), "notes",
                              {"text": str(form.get("text", ""))[:5000]})


@router.post("/r/{reference}/plan")
async def plan(request: Request, reference: str) -> Response:
    form = await request.form()
    fields = {k: str(form.get(k, ""))[:5000]
              for k in ("what_matters", "strengths", "goals", "who_helps")}
    review = str(form.get("next_review", "")).strip()
    return await _form_action(request, _reference(reference), "plan",
                              {**fields, "next_review": review or None})


@router.post("/r/{reference}/close")
async def close(request: Request, reference: str) -> Response:
    form = await request.form()
    return await _form_action(request, _reference(reference), "close",
                              {"outcome": str(form.get("outcome", ""))})
