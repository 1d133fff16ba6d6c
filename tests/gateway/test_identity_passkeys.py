"""Passkeys' server side: the relying party, and the signed challenge cookie (the browser's
side is proved in Chromium with a virtual authenticator: tests/desk/test_journey_e2e.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.identity.passkeys import Challenges, PasskeyError, RelyingParty, parse

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_relying_party_is_the_public_host_or_localhost_for_a_loopback_address() -> None:
    rp = RelyingParty.of("https://line.lambeth.example")
    assert (rp.id, rp.origins) == ("line.lambeth.example", ["https://line.lambeth.example"])
    dev = RelyingParty.of("http://127.0.0.1:8000")
    assert dev.id == "localhost"
    assert dev.origins == ["http://127.0.0.1:8000", "http://localhost:8000"]


def test_a_challenge_is_taken_back_only_for_its_purpose_unaltered_and_in_time() -> None:
    challenges = Challenges("secret")
    challenge, cookie = challenges.issue("auth", NOW)
    assert challenges.take(cookie, "auth", NOW + timedelta(minutes=4)) == challenge
    with pytest.raises(PasskeyError):
        challenges.take(cookie, "reg-abc", NOW)
    with pytest.raises(PasskeyError):
        challenges.take(cookie, "auth", NOW + timedelta(minutes=6))
    tampered = "A" + cookie[1:]
    with pytest.raises(PasskeyError):
        challenges.take(tampered, "auth", NOW)
    with pytest.raises(PasskeyError):
        Challenges("another secret").take(cookie, "auth", NOW)
    for junk in (None, "", "a.b", "a.b.c.d.e"):
        with pytest.raises(PasskeyError):
            challenges.take(junk, "auth", NOW)


def test_the_scripts_answer_must_be_json_with_a_credential() -> None:
    for body in (b"", b"[]", b'{"csrf_token": "x"}', b'{"credential": "x"}'):
        with pytest.raises(PasskeyError):
            parse(body)
    data, credential = parse(b'{"csrf_token": "t", "credential": {"id": "x"}}')
    assert data["csrf_token"] == "t" and credential == {"id": "x"}
