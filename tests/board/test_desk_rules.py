"""The desk's "how the service runs" page in-process, with referral and notify stood in for:
the routing rules and the escalation policy in words, the dry run's route and reasons, an
unknown urgency refused on its field without asking referral, and a key worker refused."""

from __future__ import annotations

from typing import Any

from services.desk.backend import Answer
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401

COORD = signed_in("coordinator")
RULES = {"version": "2026-11-21.1", "source": "routing.yaml", "last_error": None,
         "windows": [{"urgency": "routine", "respond_within": "7 days",
                      "alert_after": "126 hours"}],
         "risk_floors": {"self_harm": "very_urgent"}, "sla_alert_at": 0.75,
         "localities": {"south_west": ["SW2", "SW4"]}, "overrides": {"SW2": "south_west"},
         "emergency_team": "crisis_duty", "default_team": "hub",
         "team_rules": [{"team": "ips_alliance", "when": "any of: substance use",
                         "reason": "substance use"}]}
POLICY = {"version": "2026-11-21", "code_valid_after_respond_by": 3600, "urgency": {
    "routine": [{"after_seconds": 0, "action": "sms", "from_offer": 1},
                {"after_seconds": 43200, "action": "alert_coordinator", "from_offer": 2}]}}


def answers(services: Any) -> None:
    services.answers[("GET", "referral", "/api/v1/desk/routing")] = Answer(200, RULES)
    services.answers[("GET", "notify", "/api/v1/desk/escalation")] = Answer(200, POLICY)


async def test_the_rules_and_the_policy_in_words(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    page = await client.get("/desk/rules", headers=COORD)
    assert page.status_code == 200, page.text
    text = page.text
    assert "Routing rules, version 2026-11-21.1" in text and "7 days" in text
    assert "Self-harm: at least very urgent" in text and "South West: SW2, SW4" in text
    assert "Any of: substance use: ips alliance" in text
    assert "escalation policy, version 2026-11-21" in text
    assert "At once: Text the handoff" in text
    assert "After 12 hours: Alert the duty coordinators (from offer 2 on)" in text
    assert "still works 1 hour after" in text


async def test_the_dry_run_shows_the_route_and_its_reasons(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    services.answers[("POST", "referral", "/api/v1/desk/routing/dry-run")] = Answer(200, {
        "urgency": "very_urgent", "respond_by": "2026-11-30T10:00:00+00:00",
        "locality": "south_west", "team": "living_well_network", "rules_version": "2026-11-21.1",
        "reasons": ["self-harm: at least very urgent"]})
    page = await client.post("/desk/rules/dry-run", headers=COORD, data={
        "urgency": "", "risk": ["self_harm", "nonsense"], "needs": ["housing"],
        "postcode": " SW2 1AA "})
    assert page.status_code == 200, page.text
    assert services.calls[-3] == ("POST", "referral", "/api/v1/desk/routing/dry-run", {
        "urgency": None, "risk": {"self_harm": True}, "needs": ["housing"],
        "postcode": "SW2 1AA"})
    assert "Very urgent</strong>, South West, team living well network" in page.text
    assert "self-harm: at least very urgent" in page.text
    assert 'value="self_harm" checked' in page.text


async def test_an_unknown_urgency_is_refused_on_its_field(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    answers(services)
    page = await client.post("/desk/rules/dry-run", headers=COORD, data={"urgency": "soon"})
    assert page.status_code == 422 and 'href="#urgency"' in page.text
    assert not [c for c in services.calls if c[0] == "POST"]


async def test_a_key_worker_gets_403_before_any_service_is_asked(desk: Any) -> None:  # noqa: F811
    client, services, _ = desk
    worker = signed_in("key_worker", keyworker_id="kw-1")
    assert (await client.get("/desk/rules", headers=worker)).status_code == 403
    assert (await client.post("/desk/rules/dry-run", headers=worker)).status_code == 403
    assert services.calls == []
