"""The board's data: one read from each owning service, at once, shaped into lanes with
clocks for the templates (the full page and the live fragment render the same)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request

from services.common.context import H_PERSON_ID
from services.desk.backend import Answer, Backend
from services.desk.board.clock import Due, at, due, span, waited

# Items listed per lane, most pressing first (the counts are of everything): a coordinator
# works from the top, and a page of hundreds of forms renders and reads slowly.
SHOWN = 25
CHANNELS = {"voice": "Call", "sms": "Text", "email": "Email"}
RISK = {"crisis": "Crisis", "high": "High risk", "medium": "Medium risk", "routine": "Routine",
        "low": "Low risk"}
ALERTS = {"crisis": "Crisis contact", "sla_at_risk": "Deadline at risk",
          "sla_breached": "Deadline missed", "nobody_fits": "Nobody fits",
          "send_failed": "Send failed", "worker_stopped": "Worker opted out",
          "no_answer": "Handoff not answered", "dead_letter": "A message could not be passed on"}
STEPS = {"sms": "handoff text sent", "reminder": "reminder sent", "call": "call to the worker",
         "alert_coordinator": "coordinators alerted", "next_candidate": "offer to the next",
         "send_failed": "a send failed", "channel_switch": "switched to a call",
         "offered": "offered", "delivered": "delivered", "call_unanswered": "call not answered",
         "no_answer": "no answer"}
ROLES = {"crisis_duty": "Crisis duty", "duty_coordinator": "Duty coordinator",
         "backup_manager": "Backup manager"}
LOCALITIES = {"north": "North", "south_west": "South West", "south_east": "South East"}


@dataclass
class Lane:
    name: str
    title: str
    count: int
    longest: str
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Board:
    callbacks: Lane
    referrals: Lane
    handoffs: Lane
    alerts: Lane
    acknowledged: list[dict[str, Any]]
    on_duty: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    at_risk: int
    overdue: int

    def digest(self) -> str:
        """What the board shows, to tell a poll that nothing changed (no swap, focus kept)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


def _ok(answer: Answer) -> Any:
    if not answer.ok:
        raise PermissionError(answer.status)
    return answer.body


async def read(request: Request, backend: Backend, now: datetime) -> Board:
    top = f"?limit={SHOWN}"
    intake, referral, notify, keyperson = await asyncio.gather(
        backend.call(request, "GET", "intake", "/api/v1/desk/board/callbacks" + top),
        backend.call(request, "GET", "referral", "/api/v1/desk/board/referrals" + top),
        backend.call(request, "GET", "notify", "/api/v1/desk/board" + top),
        backend.call(request, "GET", "keyperson", "/api/v1/desk/board"))
    cb, ref, note, rota = _ok(intake), _ok(referral), _ok(notify), _ok(keyperson)
    me = request.headers.get(H_PERSON_ID, "")
    names: dict[str, str] = rota["workers"]
    return Board(
        callbacks=_lane("callbacks", "Callbacks", cb, now, [_callback(c, now, me)
                                                            for c in cb["items"]]),
        referrals=_lane("referrals", "Referrals not yet accepted", ref, now,
                        [_referral(r, now, names) for r in ref["items"]]),
        handoffs=_lane("handoffs", "Handoffs nobody has answered", note["handoffs"], now,
                       [_handoff(h, now, names) for h in note["handoffs"]["items"]]),
        alerts=_lane("alerts", "Open alerts", note["alerts"], now,
                     [_alert(a, now, me) for a in note["alerts"]["items"]]),
        acknowledged=[_alert(a, now, me) for a in note["acknowledged"]],
        on_duty=[{**d, "role_words": ROLES.get(d["role"], d["role"]),
                  "place": LOCALITIES.get(d["locality"] or "", d["locality"] or "Borough-wide"),
                  "until": d["ends_at"]} for d in rota["on_duty"]],
        gaps=[{**g, "role_words": ROLES.get(g["role"], g["role"]),
               "place": LOCALITIES.get(g["locality"], g["locality"])} for g in rota["gaps"]],
        at_risk=ref["at_risk"], overdue=ref["overdue"])


def _lane(name: str, title: str, body: dict[str, Any], now: datetime,
          items: list[dict[str, Any]]) -> Lane:
    oldest = at(body.get("oldest_at"))
    longest = span((now - oldest).total_seconds()) if oldest else "nothing waiting"
    return Lane(name, title, int(body["count"]), longest, items)


def _who(account: str | None, me: str) -> str:
    if not account:
        return ""
    return "you" if account == me else f"coordinator {account[:8]}"


def _callback(c: dict[str, Any], now: datetime, me: str) -> dict[str, Any]:
    reach = c.get("reach") or ""
    return {**c, "channel_words": CHANNELS.get(c["channel"], c["channel"]),
            "risk_words": RISK.get(c["risk"], c["risk"]), "waited": waited(c["created_at"], now),
            "due": due(c["due_at"], now), "tel": reach if reach.startswith("+") else None,
            "mailto": reach if "@" in reach else None,
            "taken_by_words": _who(c.get("taken_by"), me)}


def _referral(r: dict[str, Any], now: datetime, names: dict[str, str]) -> dict[str, Any]:
    holder = r.get("keyworker_id")
    return {**r, "waited": waited(r["created_at"], now),
            "due": due(r["respond_by"], now, r["at_risk_at"]),
            "holder": names.get(holder, holder) if holder else None}


def _handoff(h: dict[str, Any], now: datetime, names: dict[str, str]) -> dict[str, Any]:
    nxt = at(h.get("next_step_at"))
    return {**h, "worker": names.get(h["keyworker_id"], h["keyworker_id"]),
            "waited": waited(h["offered_at"], now), "due": due(h["respond_by"], now),
            "last_words": _step(h.get("last_step"), h.get("last_channel")),
            "next_words": STEPS.get(h.get("next_step") or "", h.get("next_step") or ""),
            "next_in": span((nxt - now).total_seconds()) if nxt else ""}


def _step(step: str | None, channel: str | None) -> str:
    words = STEPS.get(step or "", step or "offered")
    if step == "delivered":
        return "call answered" if channel == "voice" else "handoff text delivered"
    return words


def _alert(a: dict[str, Any], now: datetime, me: str) -> dict[str, Any]:
    deadline: Due = due(a.get("respond_by"), now)
    return {**a, "kind_words": ALERTS.get(a["kind"], a["kind"]),
            "waited": waited(a["created_at"], now), "due": deadline,
            "by_words": _who(a.get("acknowledged_by"), me)}
