"""Promises agree: every channel says the routing rules' window, a crisis alert's respond-by
is the emergency window from when it was raised, and a call says "an EMERGENCY handoff".
And what notify's coordinators are told when its own relay gives up on a row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from services.common.outbox import MAX_BACKOFF, enqueue
from services.common.promises import Promises, promises, words_for
from services.intake.settings import DATA_DIR
from services.intake.wording import Replies, load
from services.notify.gsm import is_gsm7, segments
from services.notify.models import Alert, OutboxMessage
from services.notify.templates import Facts, handoff_call, render, when
from services.referral.routing import RoutingInput, Urgency, decide
from services.referral.rules import DEFAULT_RULES, load_rules
from tests.notify.conftest import NotifyHarness, mobile
from tests.support.twilio import Expectations

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("window", "words"), [
    (timedelta(minutes=30), "within 30 minutes"), (timedelta(hours=1), "within 1 hour"),
    (timedelta(hours=4), "within 4 hours"), (timedelta(hours=24), "within 24 hours"),
    (timedelta(days=2), "within 2 days"), (timedelta(days=7), "within 7 days"),
])
def test_a_window_in_plain_words(window: timedelta, words: str) -> None:
    assert words_for(window) == words


@pytest.mark.parametrize("urgency", ["emergency", "very_urgent", "urgent", "routine"])
def test_a_text_an_email_and_a_referral_promise_the_same_window(urgency: str) -> None:
    replies = load(DATA_DIR / "replies.yaml", Replies)
    route = decide(load_rules(DEFAULT_RULES),
                   RoutingInput(requested_urgency=cast(Urgency, urgency), risk={}, needs=[],
                                postcode=None),
                   NOW)
    assert route.urgency == urgency
    window = route.respond_by - NOW  # what the voice confirmation's "call you back by" says
    assert replies.response_time(urgency) == words_for(window) == promises().words(urgency)
    text = replies.sms.received.format(reference="LW-7K3M-Q9XA",
                                       response_time=replies.response_time(urgency))
    assert words_for(window) in text and "working days" not in text


def test_the_routine_promise_is_the_rules_week_on_every_channel() -> None:
    replies = load(DATA_DIR / "replies.yaml", Replies)
    assert replies.response_time("routine") == "within 7 days"
    email = replies.email.body.format(reference="LW-7K3M-Q9XA",
                                      response_time=replies.response_time("routine"))
    assert "within 7 days" in email
    call_back = render("caller_confirmation", Facts(
        reference="LW-7K3M-Q9XA", urgency="routine",
        respond_by=promises().respond_by("routine", NOW)))
    assert when(NOW + timedelta(days=7)) in call_back


def test_a_change_to_the_rules_changes_the_promise(tmp_path: Path) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(DEFAULT_RULES.read_text().replace("routine: 7d", "routine: 5d"))
    mine = Promises(rules)
    assert mine.words("routine") == "within 5 days"
    rules.write_text(DEFAULT_RULES.read_text().replace("routine: 7d", "routine: 10d") + "\n")
    assert mine.words("routine") == "within 10 days"
    rules.write_text("urgency: [broken")  # a broken edit keeps the windows last read
    assert mine.words("routine") == "within 10 days"


def test_intake_will_not_start_without_the_rules_it_promises_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("LIVEWELL_ROUTING_RULES", str(tmp_path / "missing.yaml"))
    promises.cache_clear()
    try:
        with pytest.raises(ValueError, match="routing rules"):
            load(DATA_DIR / "replies.yaml", Replies)
    finally:
        promises.cache_clear()


@pytest.mark.parametrize(("urgency", "spoken"), [
    ("emergency", "An EMERGENCY handoff"), ("very_urgent", "A very urgent handoff"),
    ("urgent", "An urgent handoff"), ("routine", "A routine handoff"),
])
def test_the_call_says_a_or_an_as_the_urgency_needs(urgency: str, spoken: str) -> None:
    twiml = handoff_call(Facts(reference="LW-7K3M-Q9XA", urgency=urgency, respond_by=NOW,
                               code="K7M2QX"), "https://line.example/x")
    assert spoken in twiml and "A EMERGENCY" not in twiml


def test_the_dead_letter_alert_is_gsm7_and_two_segments() -> None:
    text = render("coordinator_alert", Facts(reference="LW-WWWW-WWWW", urgency="very_urgent",
                                              respond_by=NOW, alert="dead_letter"))
    assert is_gsm7(text) and segments(text) <= 2


async def test_a_crisis_alert_gives_the_emergency_window_not_the_moment_it_was_raised(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    coordinator = mobile()
    notify.peers.coordinators = [coordinator]
    expect.expect_sms(coordinator, "crisis contact")
    # Intake raises a crisis alert before any referral is routed, "respond by" = now.
    raised = notify.service.kit.clock.now()
    resp = await notify.client.post("/internal/alerts", json={
        "alert_key": f"crisis:{mobile()}", "kind": "crisis", "reference": "LW-7K3M-Q9XA",
        "urgency": "emergency", "respond_by": raised.isoformat()})
    assert resp.status_code == 200
    await notify.settle()
    async with notify.service.kit.db.sessionmaker() as session:
        alert = await session.get(Alert, resp.json()["alert_id"])
    assert alert is not None and alert.respond_by is not None
    assert alert.respond_by - alert.created_at == promises().window("emergency")
    [sms] = await notify.twilio.messages(coordinator)
    assert f"respond by {when(alert.respond_by)}" in sms["body"]
    assert f"respond by {when(raised)}" not in sms["body"]


async def test_notifys_own_dead_letter_alerts_the_coordinators_locally(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    coordinator = mobile()
    notify.peers.coordinators = [coordinator]
    expect.expect_sms(coordinator, "could not be passed on")
    relay = notify.service.kit.relay
    max_failures, relay.max_failures = relay.max_failures, 2

    async def broken(session: Any, payload: dict[str, Any]) -> None:
        raise LookupError("the same way every time")

    relay.local_handlers["test.broken"] = broken
    key = f"test:{mobile()}"
    try:
        async with notify.service.kit.db.sessionmaker() as session, session.begin():
            enqueue(session, OutboxMessage, key=key, target="local", path="test.broken",
                    payload={"reference": "LW-7K3M-Q9XA", "urgency": "urgent"},
                    now=notify.service.kit.clock.now())
        await notify.settle()
        await notify.advance(MAX_BACKOFF * 2)  # the second failure: a dead letter
    finally:
        relay.max_failures = max_failures
    async with notify.service.kit.db.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == key))
        assert row is not None and row.dead_at is not None
        alert = await session.scalar(select(Alert).where(
            Alert.alert_key == f"dead_letter:notify:{row.id}"))
    assert alert is not None and (alert.kind, alert.reference) == ("dead_letter", "LW-7K3M-Q9XA")
    [sms] = await notify.twilio.messages(coordinator)
    assert "LW-7K3M-Q9XA" in sms["body"] and "could not be passed on" in sms["body"]
