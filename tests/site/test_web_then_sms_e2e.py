"""The website through the real gateway and stack: a person who writes on the site and later
texts is one person, with both contacts on one referral; pages keep their headers."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.e2e.conftest import stack  # noqa: F401 - the running system, one per backend
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"LW-[0-9A-Z]{4}-[0-9A-Z]{4}")


async def test_someone_who_writes_on_the_site_and_then_texts_is_one_person(
        stack: Stack) -> None:  # noqa: F811
    phone = f"+447400{random.randint(0, 999999):06d}"
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as web:
        form = await web.get("/contact")
        assert form.status_code == 200
        assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
        token = re.search(r'name="token" value="([A-Za-z0-9_-]+)"', form.text)
        assert token
        national = "0" + phone[3:]
        sent = await web.post("/contact", data={
            "token": token.group(1), "message": "I have not been sleeping and feel alone.",
            "name": "Sam", "phone": national, "preferred_way": "any"})
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        assert location.startswith("/contact/sent/") and phone[4:] not in location
        again = await web.post("/contact", data={"token": token.group(1),
                                                 "message": "I have not been sleeping."})
        receipt = await web.get(location)
        found = REFERENCE.search(receipt.text)
        assert receipt.status_code == 200 and found
        reference = found.group(0)
        assert reference in (await web.get(again.headers["location"])).text  # one contact

    texted = await stack.twilio.inbound_sms(phone, "It's me again from the website")
    assert reference in (ET.fromstring(texted["twiml"]).findtext("Message") or "")

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as api:
        resp = await api.get("/api/v1/contacts", params={"reference": reference},
                             headers=stack.auth("Living Well Hub", "staff"))
    assert resp.status_code == 200, resp.text
    contacts = resp.json()
    assert sorted(c["channel"] for c in contacts) == ["sms", "web"]
    assert len({c["person_id"] for c in contacts}) == 1 and contacts[0]["person_id"]

    async def routed() -> list[dict[str, object]] | None:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as api:
            found = await api.get("/api/v1/referrals", params={"reference": reference},
                                  headers=stack.auth("Living Well Hub", "staff"))
        items: list[dict[str, object]] = found.json().get("items", []) if found.is_success \
            else []
        return items or None

    # Referral took intake's self-referral (source web) and routed it.
    [routed_referral] = await eventually(routed, what="the website referral to be routed")
    assert routed_referral["reference"] == reference


async def test_the_language_switch_works_through_the_gateway(stack: Stack) -> None:  # noqa: F811
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as web:
        switched = await web.get("/lang/pl", params={"next": "/advice/wobbly-day"})
        assert switched.status_code == 303 and "lang=pl" in switched.headers["set-cookie"]
        page = await web.get("/advice/wobbly-day")
        assert '<html lang="pl">' in page.text and "Gorszy dzień" in page.text
        css = await web.get("/static/site/nhsuk/nhsuk-frontend.min.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
