"""The self-assessment page: scored on the server, nothing kept, item 9 shows urgent help at
once, and a result can be sent with a message."""

from __future__ import annotations

from tests.site.conftest import SiteHarness


def phq9(*values: int) -> dict[str, str]:
    return {"questionnaire": "phq9",
            **{f"phq9_{i}": str(v) for i, v in enumerate(values, 1)}}


async def test_a_complete_phq9_is_scored_in_plain_words(site: SiteHarness) -> None:
    resp = await site.client.post("/self-assessment", data=phq9(2, 2, 1, 1, 1, 1, 1, 1, 0))
    assert resp.status_code == 200
    text = resp.text
    assert "Your score is 10 out of 27." in text
    assert "affecting your life quite a lot" in text and "not a diagnosis" in text
    assert text.index('id="urgent-help"') > text.index('id="maincontent"')  # not urgent
    assert resp.headers["cache-control"] == "no-store"
    assert site.intake.received == []  # nothing sent, nothing stored


async def test_item_9_above_0_shows_urgent_help_first_whatever_the_total(
        site: SiteHarness) -> None:
    resp = await site.client.post("/self-assessment", data=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1))
    text = resp.text
    assert "Your score is 1 out of 27." in text
    assert text.index('id="urgent-help"') < text.index('id="maincontent"')
    assert "Please talk to someone today" in text


async def test_item_9_shows_urgent_help_even_when_other_questions_are_unanswered(
        site: SiteHarness) -> None:
    resp = await site.client.post("/self-assessment",
                                  data={"questionnaire": "phq9", "phq9_9": "2"})
    assert resp.status_code == 422
    text = resp.text
    assert text.index('id="urgent-help"') < text.index('id="maincontent"')
    assert "Choose an answer for question 1" in text and 'href="#phq9_1"' in text
    assert 'value="2" checked' in text  # the answer given is kept


async def test_gad7_is_scored_too(site: SiteHarness) -> None:
    resp = await site.client.post("/self-assessment", data={
        "questionnaire": "gad7", **{f"gad7_{i}": "3" for i in range(1, 8)}})
    assert "Your score is 21 out of 21." in resp.text
    assert "affecting your life very much" in resp.text


async def test_a_result_goes_with_a_message_only_when_the_person_sends_it(
        site: SiteHarness) -> None:
    start = await site.client.post("/contact", data={
        "start": "with_result", "phq9": "12", "phq9_item9": "1"})
    assert start.status_code == 200 and site.intake.received == []
    assert "Send my PHQ-9 score (12) with my message" in start.text
    sent = await site.client.post("/contact", data={
        "message": "my result", "phq9": "12", "phq9_item9": "1", "include_result": "yes"})
    assert sent.status_code == 303
    assert site.intake.received[-1]["phq9"] == 12
    assert site.intake.received[-1]["phq9_item9"] == 1
    await site.client.post("/contact", data={
        "message": "without it", "phq9": "12", "phq9_item9": "1", "include_result": "no"})
    assert site.intake.received[-1]["phq9"] is None
