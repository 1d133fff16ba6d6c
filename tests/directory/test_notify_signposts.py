"""Notify texts a person a service's details once per message key, as its other texts."""

from __future__ import annotations

import uuid

from tests.notify.conftest import NotifyHarness, mobile


async def test_a_repeated_signpost_message_is_sent_once(notify: NotifyHarness) -> None:
    to = mobile()
    body = {"message_key": str(uuid.uuid4()), "to": to, "name": "Example: Stockwell Debt Advice",
            "phone": "020 7946 0102", "url": "https://example.org/debt",
            "opening": "Mon-Fri 09:00-17:00"}
    first = await notify.client.post("/internal/signpost-messages", json=body)
    again = await notify.client.post("/internal/signpost-messages", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    await notify.settle()
    sent = [m for m in await notify.twilio.messages() if m["to"] == to]
    assert len(sent) == 1
    assert sent[0]["body"].startswith("Living Well Line: as agreed, here are the details of "
                                      "Example: Stockwell Debt Advice. Phone 020 7946 0102.")


async def test_a_bad_number_is_refused_naming_the_field(notify: NotifyHarness) -> None:
    resp = await notify.client.post("/internal/signpost-messages", json={
        "message_key": "k", "to": "not a number", "name": "Example"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["to"]
