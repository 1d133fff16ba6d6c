"""The contact form as the contract defines it: urlencoded, `message` required, `name`,
`phone`, `email` optional; POST → 303 → a receipt page with the reference; nothing personal in
the URL or the logs; double submits, spam, oversize and intake outages handled."""

from __future__ import annotations

import base64
import logging
import re
from datetime import timedelta

import pytest

from services.common.promises import promises, span
from tests.site.conftest import SiteHarness

PERSONAL = ("Ada Lovelace", "07700900982", "ada@example.org", "cannot sleep")


async def fresh_token(site: SiteHarness) -> str:
    text = (await site.client.get("/contact")).text
    found = re.search(r'name="token" value="([A-Za-z0-9_-]+)"', text)
    assert found
    return found.group(1)


async def test_the_form_has_the_contract_fields(site: SiteHarness) -> None:
    resp = await site.client.get("/contact")
    text = resp.text
    assert '<form method="post" action="/contact" novalidate>' in text
    assert re.search(r'<textarea[^>]*name="message"', text)
    for name in ("name", "phone", "email"):
        assert re.search(rf'<input[^>]*name="{name}"', text), name
    assert resp.headers["cache-control"] == "no-store"


async def test_a_message_is_sent_and_the_receipt_shows_the_reference(
        site: SiteHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = await fresh_token(site)
    resp = await site.client.post("/contact", data={
        "token": token, "message": "I cannot sleep and feel low.", "name": "Ada Lovelace",
        "phone": "07700900982", "email": "ada@example.org", "preferred_way": "text",
        "preferred_time": "evening"})
    assert resp.status_code == 303
    location = resp.headers["location"]
    assert location.startswith("/contact/sent/")
    assert not any(p.lower() in location.lower() for p in PERSONAL)
    sent = site.intake.received[-1]
    assert sent["token"] == token and sent["message"] == "I cannot sleep and feel low."
    assert (sent["name"], sent["phone"], sent["email"]) == PERSONAL[:3]
    assert (sent["preferred_way"], sent["preferred_time"], sent["language"]) == \
        ("text", "evening", "en")
    receipt = await site.client.get(location)
    assert receipt.status_code == 200 and "LW-TEST-0001" in receipt.text
    assert f"We will reply {promises().words('routine')}." in receipt.text  # as intake said
    assert receipt.headers["cache-control"] == "no-store"
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert not any(p in logged for p in PERSONAL)


async def test_only_a_message_is_needed(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "hello"})
    assert resp.status_code == 303
    sent = site.intake.received[-1]
    assert sent["name"] is None and sent["phone"] is None and sent["email"] is None
    assert sent["preferred_way"] == "any" and len(sent["token"]) >= 16


async def test_a_double_submit_is_one_contact(site: SiteHarness) -> None:
    token = await fresh_token(site)
    first = await site.client.post("/contact", data={"token": token, "message": "hello"})
    second = await site.client.post("/contact", data={"token": token, "message": "hello"})
    a = await site.client.get(first.headers["location"])
    b = await site.client.get(second.headers["location"])
    assert "LW-TEST-0001" in a.text and "LW-TEST-0001" in b.text
    assert {p["token"] for p in site.intake.received} == {token}


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"message": "   "}, "message", "Write your message"),
    ({"message": "x" * 5001}, "message", "5,000 characters or fewer"),
    ({"message": "hi", "email": "not-an-address"}, "email", "Enter an email address"),
    ({"message": "hi", "email": "a" * 320 + "@example.org"}, "email", "Enter an email address"),
    ({"message": "hi", "phone": "call me maybe"}, "phone", "Enter a phone number"),
    ({"message": "hi", "preferred_way": "email"}, "email", "so that we can reply that way"),
])
async def test_bad_input_names_the_field_and_sends_nothing(
        site: SiteHarness, form: dict[str, str], field: str, words: str) -> None:
    resp = await site.client.post("/contact", data=form)
    assert resp.status_code == 422
    text = resp.text
    assert "<title>Error: Write to us – Living Well Line</title>" in text
    assert "nhsuk-error-summary" in text and f'href="#{field}"' in text and words in text
    assert f'id="{field}-error"' in text  # the message at the field, tied to it:
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"', text)
    assert site.intake.received == []


async def test_what_was_written_is_kept_when_the_form_comes_back(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "my words", "email": "nope"})
    assert ">my words</textarea>" in resp.text and 'value="nope"' in resp.text


async def test_crisis_words_put_urgent_help_first_on_the_receipt(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "I want to kill myself"})
    text = (await site.client.get(resp.headers["location"])).text
    assert text.index('id="urgent-help"') < text.index('id="maincontent"')
    assert "We are getting someone to contact you now" in text


async def test_the_hidden_field_marks_spam_but_the_page_looks_the_same(
        site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={
        "message": "cheap watches", "contact_me_by_fax_only": "http://spam.example"})
    assert resp.status_code == 303
    assert site.intake.received[-1]["suspected_spam"] is True
    text = (await site.client.get(resp.headers["location"])).text
    assert "Message sent" in text


async def test_an_oversized_body_is_refused_before_intake_hears_of_it(
        site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "x" * 40_000})
    assert resp.status_code == 413 and site.intake.received == []


async def test_when_intake_is_down_the_message_stays_in_the_form(site: SiteHarness) -> None:
    site.intake.down = True
    resp = await site.client.post("/contact", data={"message": "please call me"})
    assert resp.status_code == 503
    assert ">please call me</textarea>" in resp.text and "has not been sent yet" in resp.text


async def test_a_forged_or_expired_receipt_is_not_found(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "hello"})
    token = resp.headers["location"].rsplit("/", 1)[1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await site.client.get(f"/contact/sent/{forged}")).status_code == 404
    assert (await site.client.get("/contact/sent/not-a-receipt")).status_code == 404


async def test_the_receipts_address_does_not_say_it_was_a_crisis(site: SiteHarness) -> None:
    """The address stays in the history of a browser the person may share."""
    resp = await site.client.post("/contact", data={"message": "I want to kill myself"})
    token = resp.headers["location"].rsplit("/", 1)[1]
    readable = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for word in (b"crisis", b'"c":true', b"emergency", b"LW-"):
        assert word not in readable
    text = (await site.client.get(resp.headers["location"])).text
    assert "We are getting someone to contact you now" in text


async def test_the_confirmation_page_is_in_the_persons_language(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "czesc"},
                                  headers={"cookie": "lang=pl"})
    assert site.intake.received[-1]["language"] == "pl"
    text = (await site.client.get(resp.headers["location"], headers={"cookie": "lang=pl"})).text
    unit, count = span(promises().window("routine"))
    assert unit == "day" and count >= 5  # Polish plural of 5 and more: "dni"
    assert "Wiadomość wysłana" in text and f"w ciągu {count} dni" in text


# What intake answered, in each language: the window comes from intake's answer for this
# contact (an intake whose rules just changed may promise other than the site's copy would).
@pytest.mark.parametrize(("window", "lang", "words"), [
    (timedelta(hours=36), "en", "We will reply within 36 hours."),
    (timedelta(hours=36), "pl", "Odpowiemy w ciągu 36 godzin."),
    (timedelta(hours=1), "pl", "Odpowiemy w ciągu 1 godziny."),
    (timedelta(hours=24), "pt", "Vamos responder dentro de 24 horas."),
    (timedelta(days=3), "pt", "Vamos responder dentro de 3 dias."),
    (timedelta(hours=4), "es", "Le responderemos en menos de 4 horas."),
    (timedelta(days=7), "es", "Le responderemos en menos de 7 días."),
    (timedelta(minutes=90), "en", "We will reply within 90 minutes."),
])
async def test_the_receipt_promises_the_window_intake_answered(
        site: SiteHarness, window: timedelta, lang: str, words: str) -> None:
    site.intake.window = window
    cookie = {"cookie": f"lang={lang}"}
    resp = await site.client.post("/contact", data={"message": "hello"}, headers=cookie)
    text = (await site.client.get(resp.headers["location"], headers=cookie)).text
    assert words in text
    assert "within" not in text or lang == "en"  # no English left in a translated promise


def test_the_reply_window_is_put_in_the_largest_whole_unit() -> None:
    assert span(timedelta(days=7)) == ("day", 7)
    assert span(timedelta(hours=24)) == ("hour", 24)
    assert span(timedelta(hours=4)) == ("hour", 4)
    assert span(timedelta(minutes=90)) == ("minute", 90)


async def test_a_receipt_expires_after_an_hour(site: SiteHarness) -> None:
    resp = await site.client.post("/contact", data={"message": "hello"})
    location = resp.headers["location"]
    assert (await site.client.get(location)).status_code == 200
    await site.client.post("/internal/clock/advance", json={"seconds": 3601})
    assert (await site.client.get(location)).status_code == 404


async def test_every_form_gets_its_own_token_though_the_page_is_rendered_once(
        site: SiteHarness) -> None:
    tokens = {await fresh_token(site) for _ in range(3)}
    assert len(tokens) == 3
