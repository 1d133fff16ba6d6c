"""Every template: only reference, urgency, deadline and code go in; GSM-7, ≤ 2 segments out."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from services.notify.codes import new_code, parse_reply
from services.notify.gsm import is_gsm7, segments
from services.notify.templates import (
    ALERT_WORDS,
    REPLIES,
    SMS_TEMPLATES,
    URGENCY_WORDS,
    Facts,
    handoff_call,
)

LONGEST = Facts(reference="LW-WWWW-WWWW", urgency="very_urgent",
                respond_by=datetime(2026, 12, 31, 23, 59, tzinfo=UTC), code="WWWWWW",
                alert="worker_stopped")


def test_the_renderer_can_only_be_given_reference_urgency_deadline_code_and_alert_kind() -> None:
    assert [f.name for f in dataclasses.fields(Facts)] == [
        "reference", "urgency", "respond_by", "code", "alert"]


@pytest.mark.parametrize("name", sorted(SMS_TEMPLATES) + sorted(REPLIES))
@pytest.mark.parametrize("urgency", sorted(URGENCY_WORDS))
def test_every_template_is_gsm7_and_at_most_two_segments(name: str, urgency: str) -> None:
    for alert in ALERT_WORDS:
        facts = dataclasses.replace(LONGEST, urgency=urgency, alert=alert)
        text = (SMS_TEMPLATES.get(name) or REPLIES[name])(facts)
        assert is_gsm7(text), text
        assert segments(text) <= 2, text
        assert "{" not in text and "None" not in text


@pytest.mark.parametrize("name", ["handoff", "reminder"])
def test_worker_templates_carry_the_contract_words(name: str) -> None:
    text = SMS_TEMPLATES[name](LONGEST)
    assert "ACCEPT WWWWWW" in text and "DECLINE WWWWWW" in text and "LW-WWWW-WWWW" in text


def test_the_call_asks_for_1_or_2_and_gathers_to_the_given_action() -> None:
    twiml = handoff_call(LONGEST, "https://line.example.org/twilio/status/handoff-call/h1")
    assert 'action="https://line.example.org/twilio/status/handoff-call/h1"' in twiml
    assert "Press 1 to accept, or 2 to decline." in twiml


def test_segments_count_gsm7_extension_and_ucs2() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # two septets each
    assert not is_gsm7("✓") and segments("✓" * 71) == 2


@pytest.mark.parametrize(("body", "verb", "code"), [
    ("ACCEPT K7M2QX", "accept", "K7M2QX"),
    ("accept k7m2qx", "accept", "K7M2QX"),
    ("  Accept: K7M-2QX!! ", "accept", "K7M2QX"),
    ("decline k7m 2qx.", "decline", "K7M2QX"),
    ("ACCEPT K7M2QO", "accept", "K7M2Q0"),  # O read as zero, as Crockford's base32 does
    ("ACCEPT", "accept", None),
    ("hello", None, None),
])
def test_replies_are_read_in_any_case_with_stray_punctuation(body: str, verb: str | None,
                                                             code: str | None) -> None:
    reply = parse_reply(body)
    assert (reply.verb, reply.code) == (verb, code)


def test_codes_are_random_and_readable() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 6 and parse_reply(f"ACCEPT {c}").code == c for c in codes)
