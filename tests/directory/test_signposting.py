"""Signposting from a person's page: the service's public details by SMS or email with the
person's agreement, nothing about the person in it, sent once on a double submit, on the
referral's story, named on closing, and counted in the month's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.figures import Month
from services.notify.gsm import is_gsm7, segments
from services.notify.signposts import service_details
from services.referral.directory.figures import signposted
from services.referral.directory.models import Schedule
from services.referral.directory.openreferral import service_rows
from services.referral.directory.signposting import opening
from tests.desk.test_referral_rules import accepted_by, person
from tests.directory.conftest import seed_data
from tests.referral.conftest import Referral
from tests.referral.factories import subject
from tests.support.service import key_headers

STAFF = key_headers("Living Well Hub", role="staff")
STOCKWELL = next(s for s in seed_data()["services"] if "Stockwell" in s["name"])
SIGNPOST = "/internal/signpost-messages"
SIGNPOST_EMAIL = "/internal/signpost-emails"


async def _send(referral: Referral, reference: str, **body: Any) -> Any:
    form = {"service_id": STOCKWELL["id"], "agreed": True, "key": "form-0001", **body}
    return await referral.client.post(f"/api/v1/desk/referrals/{reference}/signposts",
                                      json=form, headers=person("kw-1"))


async def test_the_sms_carries_the_services_details_and_nothing_about_the_person(
        referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    person_details = subject(given_name="Agnieszka", family_name="Nowakowska")
    created = await accepted_by(referral, "kw-1", subject=person_details,
                                reason="Debts since losing work; not sleeping.")
    resp = await _send(referral, created["reference"])
    assert resp.status_code == 201, resp.text
    sent = await referral.until(lambda: referral.neighbours.to(SIGNPOST))
    payload = sent[0]
    assert payload["to"] == "+447911123456"
    assert set(payload) == {"message_key", "to", "name", "phone", "url", "opening"}
    text = service_details(payload["name"], payload["phone"], payload["url"],
                           payload["opening"])
    assert "Example: Stockwell Debt Advice" in text and "020 7946 0102" in text
    assert "https://example.org/stockwell_debt_advice" in text and "Mon-Fri 09:00-17:00" in text
    for personal in ("Agnieszka", "Nowakowska", person_details["postcode"],
                     person_details["nhs_number"], "7911", created["reference"], "sleeping",
                     "losing work"):
        assert personal not in text, personal
    assert is_gsm7(text) and segments(text) <= 2


async def test_a_double_submit_sends_once(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1")
    first = await _send(referral, created["reference"], key="double-submit")
    again = await _send(referral, created["reference"], key="double-submit")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    await referral.until(lambda: referral.neighbours.to(SIGNPOST))
    mine = [p for p in referral.neighbours.to(SIGNPOST)
            if p["message_key"] == first.json()["id"]]
    assert len(mine) == 1
    listed = (await referral.client.get(
        f"/api/v1/desk/referrals/{created['reference']}/signposts",
        headers=person("kw-1"))).json()
    assert [s["service_name"] for s in listed] == ["Example: Stockwell Debt Advice"]


async def test_without_the_persons_agreement_nothing_is_sent(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1")
    resp = await _send(referral, created["reference"], agreed=False, key="no-agreement")
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "agreed"]
    unknown = await _send(referral, created["reference"], key="no-such-service",
                          service_id="00000000-0000-4000-8000-000000000000")
    assert unknown.json()["errors"][0]["loc"] == ["body", "service_id"]
    other = await referral.client.post(
        f"/api/v1/desk/referrals/{created['reference']}/signposts",
        json={"service_id": STOCKWELL["id"], "agreed": True, "key": "another-worker"},
        headers=person("kw-2"))
    assert other.status_code == 404


async def test_by_email_the_details_go_to_intake_and_the_story_says_so(
        referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", subject=subject(email="Sam.E@Example.org"))
    resp = await _send(referral, created["reference"], channel="email", key="by-email-1")
    assert resp.status_code == 201, resp.text
    assert resp.json()["channel"] == "email"
    await referral.until(lambda: referral.neighbours.to(SIGNPOST_EMAIL))
    [(target, _, payload, key)] = [c for c in referral.neighbours.calls
                                   if c[1] == SIGNPOST_EMAIL]
    assert (target, key) == ("intake", f"signpost:{resp.json()['id']}")
    assert payload == {"message_key": resp.json()["id"], "to": "Sam.E@example.org",
                       "name": "Example: Stockwell Debt Advice", "phone": "020 7946 0102",
                       "url": "https://example.org/stockwell_debt_advice",
                       "opening": payload["opening"]}
    assert "Mon-Fri 09:00-17:00" in payload["opening"]
    assert referral.neighbours.to(SIGNPOST) == []  # by email only, no text as well
    full = (await referral.client.get(f"/api/v1/desk/referrals/{created['reference']}",
                                      headers=person("kw-1"))).json()
    assert [n["text"] for n in full["signposts"]] == [
        "Sent the details of Example: Stockwell Debt Advice by email, with the person's "
        "agreement."]


async def test_email_needs_an_address_on_the_referral(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", subject=subject(email=None))
    resp = await _send(referral, created["reference"], channel="email", key="no-address")
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["loc"] == ["body", "channel"]
    listed = (await referral.client.get(
        f"/api/v1/desk/referrals/{created['reference']}/signposts",
        headers=person("kw-1"))).json()
    assert listed == []
    by_text = await _send(referral, created["reference"], key="then-by-text")
    assert by_text.status_code == 201  # the phone is still there: a text can go
    await referral.until(lambda: referral.neighbours.to(SIGNPOST))
    assert referral.neighbours.to(SIGNPOST_EMAIL) == []
    unknown = await _send(referral, created["reference"], channel="fax", key="by-fax-0")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"][-1] == "channel"


async def test_an_email_double_submit_sends_once_and_the_month_counts_it(
        referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1")
    month = Month.of(referral.harness.kit.clock.now())
    before = await _signposted(referral, month)
    first = await _send(referral, created["reference"], channel="email", key="email-twice")
    again = await _send(referral, created["reference"], channel="email", key="email-twice")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    await referral.until(lambda: referral.neighbours.to(SIGNPOST_EMAIL))
    assert [p["message_key"] for p in referral.neighbours.to(SIGNPOST_EMAIL)] == [
        first.json()["id"]]
    name = "Example: Stockwell Debt Advice"
    assert (await _signposted(referral, month))[name] == before.get(name, 0) + 1


async def _signposted(referral: Referral, month: Month) -> dict[str, int]:
    """Referral's `signposted` part of the month's figures."""
    async with referral.harness.kit.db.sessionmaker() as session:
        return await signposted(session, month)


async def test_closing_as_signposted_names_the_service_and_the_month_counts_it(
        referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1")
    month = Month.of(referral.harness.kit.clock.now())
    before = await _signposted(referral, month)
    assert (await _send(referral, created["reference"], key="sent-then-closed")
            ).status_code == 201
    resp = await referral.client.post(
        f"/api/v1/desk/referrals/{created['reference']}/close",
        json={"outcome": "signposted", "service_id": STOCKWELL["id"]}, headers=person("kw-1"))
    assert resp.status_code == 200, resp.text
    after = await _signposted(referral, month)
    name = "Example: Stockwell Debt Advice"
    assert after[name] == before.get(name, 0) + 1  # sent and closed: one referral, once


def test_every_example_service_fits_two_gsm7_segments_and_so_do_the_longest() -> None:
    texts = []
    for doc in seed_data()["services"]:
        rows = service_rows(doc, datetime.now(UTC))
        schedules = [c for c in rows.children if isinstance(c, Schedule)]
        texts.append(service_details(doc["name"], doc["contacts"][0]["phones"][0]["number"],
                                     doc["url"], opening(schedules)))
    texts.append(service_details("Ł" * 300 + "’s “café” – advice",
                                 "020 7946 0999 ext 12", "https://example.org/" + "a" * 400,
                                 "Mon-Fri 09:00-17:00, " * 20))
    for text in texts:
        assert is_gsm7(text) and segments(text) <= 2, text
    assert "020 7946 0999 ext 12" in texts[-1]
