"""What made the desk's handoff and person pages slow with 10,000 referrals and a person with
200 contacts (`python -m bench.desk`), kept from coming back: the design system's form
components rendered on every view, the person's earlier referrals read from the whole
referral table. Intake's part is in intake/test_story_costs.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from starlette.requests import Request

from services.common.settings import Settings
from services.desk import kept as kept_module
from services.desk.pages import pages

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC).isoformat()
PLAN = {"version": 1, "at": NOW, "what_matters": "Walking her neighbour's dog",
        "strengths": "", "goals": "", "who_helps": "", "next_review": ""}


def _page(plan: dict[str, Any] | None) -> dict[str, Any]:
    r = {"reference": "LW-0001-COST", "status": "accepted", "outcome": None,
         "urgency": "urgent", "respond_by": NOW, "locality": "north", "team": "hub",
         "created_at": NOW, "org": "Police", "source": "partner", "subject": {},
         "reason": None, "needs": [], "risk": {}, "referrer": {}, "person_id": "p-1",
         "information": [], "notes": [], "attempts": [], "signposts": [], "plan": plan,
         "earlier": [], "visits": [], "contacts": [], "can_act": True,
         "outcomes": [{"code": "supported", "label": "Supported"}]}
    request = Request({"type": "http", "method": "GET", "path": "/desk/r/x", "headers": [],
                       "query_string": b""})
    return {"request": request, "csrf_token": "t", "role": "key_worker",
            "now": datetime.now(UTC), "r": r, "errors": []}


def _rendered_every_time(macro: Any, params: dict[str, Any], keep: bool = True) -> Any:
    from markupsafe import Markup

    return Markup(macro(params))


def test_the_person_pages_forms_are_rendered_once_and_never_keep_a_plan() -> None:
    kept_module._kept.clear()
    first = pages.render("referral.jinja", _page(None))
    held = dict(kept_module._kept)
    assert len(held) >= 8, held.keys()  # radios, note, plan fields, outcome list, buttons
    second = pages.render("referral.jinja", _page(None))
    assert second == first and all(kept_module._kept[k] is v for k, v in held.items())

    with_plan = pages.render("referral.jinja", _page(PLAN))
    assert "Walking her neighbour" in with_plan
    assert not any("neighbour" in k or "neighbour" in v for k, v in kept_module._kept.items())

    pages.env.globals["kept"] = _rendered_every_time  # the same HTML as rendering each time
    try:
        assert pages.render("referral.jinja", _page(None)) == first
        assert pages.render("referral.jinja", _page(PLAN)) == with_plan
    finally:
        pages.env.globals["kept"] = kept_module.kept


def test_earlier_referrals_are_read_through_the_persons_index(settings: Settings) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from services.common.db import connect_args, service_urls
    from services.common.migrations import upgrade

    upgrade(settings, "referral")
    _, url, schema = service_urls(settings, "referral")
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(schema))
    explain = ("EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN ")
    try:
        with engine.connect() as conn:
            if not url.startswith("sqlite"):
                conn.execute(text("SET enable_seqscan = off"))  # an empty table: ask the plan
            plan = " ".join(str(row) for row in conn.execute(text(
                explain + "SELECT id FROM referral WHERE person_id = 'p-1' AND id != 'r-1' "
                "ORDER BY created_at DESC LIMIT 100")))
    finally:
        engine.dispose()
    assert "ix_referral_person" in plan, plan
