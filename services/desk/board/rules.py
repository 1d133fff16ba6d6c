"""`/desk/rules`: how the service runs today, read-only (coordinators and admins): the routing
rules in force (version, windows, risk floors, localities, teams) with the dry-run form, and
the escalation policy of unanswered handoffs. Both stay files changed by review; the page
says what is in force. The dry run is a POST answered at once: nothing is saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from services.desk.board.pages import backend, coordinating, refused, render
from services.desk.board.views import LOCALITIES

router = APIRouter(prefix="/desk/rules", include_in_schema=False)
URGENCY = {"emergency": "Emergency", "very_urgent": "Very urgent", "urgent": "Urgent",
           "routine": "Routine"}
RISKS = {"immediate_danger": "Immediate danger", "self_harm": "Self-harm",
         "harm_to_others": "Harm to others", "safeguarding": "Safeguarding"}
NEEDS = {"housing": "Housing", "debt": "Debt", "benefits": "Benefits",
         "employment": "Employment", "isolation": "Isolation",
         "substance_use": "Substance use", "physical_health": "Physical health"}
ACTIONS = {"sms": "Text the handoff", "reminder": "Text a reminder",
           "call": "Call the key worker (1 accepts, 2 declines)",
           "alert_coordinator": "Alert the duty coordinators",
           "next_candidate": "Offer it to the next key worker"}


def after_words(seconds: float) -> str:
    s = int(seconds)
    if s == 0:
        return "At once"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s % size == 0:
            n = s // size
            return f"After {n} {unit}{'' if n == 1 else 's'}"
    return f"After {s} seconds"


async def _page(request: Request, form: dict[str, Any], result: Any, errors: list[Any],
                status: int = 200) -> Response:
    rules = await backend(request).call(request, "GET", "referral", "/api/v1/desk/routing")
    policy = await backend(request).call(request, "GET", "notify", "/api/v1/desk/escalation")
    if 403 in (rules.status, policy.status):
        return refused(request)
    if not (rules.ok and policy.ok):
        raise HTTPException(400)
    return render(request, "board/rules.jinja", {
        "rules": rules.body, "policy": policy.body, "form": form, "result": result,
        "errors": errors, "urgency_names": URGENCY, "risk_words": RISKS, "need_words": NEEDS,
        "action_words": ACTIONS, "after_words": after_words, "locality_words": LOCALITIES},
        status)


@router.get("")
async def rules_page(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    return await _page(request, {"risk": [], "needs": []}, None, [])


@router.post("/dry-run")
async def dry_run(request: Request) -> Response:
    if not coordinating(request):
        return refused(request)
    raw = await request.form()
    urgency = str(raw.get("urgency", ""))
    form = {"urgency": urgency, "postcode": str(raw.get("postcode", ""))[:16].strip(),
            "risk": [str(r) for r in raw.getlist("risk") if str(r) in RISKS],
            "needs": [str(n) for n in raw.getlist("needs") if str(n) in NEEDS]}
    if urgency and urgency not in URGENCY:
        return await _page(request, form, None, [("urgency", "Choose an urgency or none")], 422)
    payload = {"urgency": urgency or None, "risk": {r: True for r in form["risk"]},
               "needs": form["needs"], "postcode": form["postcode"] or None}
    answer = await backend(request).call(request, "POST", "referral",
                                         "/api/v1/desk/routing/dry-run", payload)
    if answer.status == 403:
        return refused(request)
    if answer.status == 422:
        return await _page(request, form, None, [("postcode", "Check what you entered")], 422)
    if not answer.ok:
        raise HTTPException(400)
    return await _page(request, form, answer.body, [])
