"""The handoff SMS carries one link to the desk whose path is the reference alone, and stays
GSM-7 and at most two segments (the link is left out rather than break that)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notify.desk_link import handoff_link, with_desk_link
from services.notify.gsm import is_gsm7, segments
from services.notify.templates import SMS_TEMPLATES, URGENCY_WORDS, Facts
from tests.notify.conftest import Expectations, NotifyHarness, mobile


@pytest.mark.parametrize("name", ["handoff", "reminder"])
@pytest.mark.parametrize("urgency", sorted(URGENCY_WORDS))
@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "https://livingwell.lambeth.nhs.uk"])
def test_the_link_fits_in_two_gsm7_segments(name: str, urgency: str, base: str) -> None:
    facts = Facts(reference="LW-WWWW-WWWW", urgency=urgency,
                  respond_by=datetime(2026, 12, 31, 23, 59, tzinfo=UTC), code="WWWWWW")
    text = with_desk_link(SMS_TEMPLATES[name](facts), base, facts.reference)
    assert text.endswith(f" {base}/desk/h/LW-WWWW-WWWW")
    assert is_gsm7(text) and segments(text) <= 2
    assert "ACCEPT WWWWWW" in text and "DECLINE WWWWWW" in text


def test_a_base_url_too_long_or_not_gsm7_leaves_the_link_out() -> None:
    text = "Living Well Line: new handoff LW-AAAA-BBBB. Reply ACCEPT ABC123 or DECLINE ABC123"
    assert with_desk_link(text, "https://" + "x" * 300 + ".example", "LW-AAAA-BBBB") == text
    assert with_desk_link(text, "https://línea.example", "LW-AAAA-BBBB") == text
    assert handoff_link("https://a.example/", "LW-AAAA-BBBB") == "https://a.example/desk/h/LW-AAAA-BBBB"


async def test_the_handoff_sms_sent_carries_the_link(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker)
    await notify.settle()
    sent = [m for m in await notify.twilio.messages() if m["to"] == worker]
    assert sent and sent[0]["body"].endswith(f"/desk/h/{offered['reference']}")
