"""The desk's directory pages in-process, over the real referral service: from a person's
page a key worker finds debt advice near them in their language and texts its details in
two taps (tick their agreement, press send); a refresh or double tap sends once."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from services.common.context import (
    H_ACTOR_KIND,
    H_INTERNAL_TOKEN,
    H_KEYWORKER_ID,
    H_PERSON_ID,
    H_PERSON_ROLE,
)
from services.common.settings import Settings
from services.desk import deps
from services.desk.app import create_app
from services.desk.backend import Answer
from tests.desk.test_referral_rules import accepted_by, person
from tests.directory.conftest import seed_data
from tests.referral.conftest import Referral
from tests.referral.factories import subject
from tests.support.service import key_headers

# pygal (the desk's charts, imported with the desk) appends an import hook without find_spec
# to sys.meta_path; any module first imported after it (limits, babel, sniffio …) then raises
# an ImportWarning, an error under warnings-as-errors. It only serves pygal's map plugins.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STAFF = key_headers("Living Well Hub", role="staff")
SIGNPOST = "/internal/signpost-messages"


class ToReferral:
    """The desk's backend, answering from the in-process referral service as the person."""

    def __init__(self, referral: Referral) -> None:
        self.referral = referral

    async def call(self, request: Request, method: str, service: str, path: str,
                   payload: Any = None) -> Answer:
        if service != "referral":  # the person's story from intake: none in this test
            return Answer(200, [])
        h = request.headers
        headers = {H_ACTOR_KIND: "person", H_PERSON_ID: h.get(H_PERSON_ID, ""),
                   H_PERSON_ROLE: h.get(H_PERSON_ROLE, ""),
                   H_KEYWORKER_ID: h.get(H_KEYWORKER_ID, "")}
        resp = await self.referral.client.request(method, path, json=payload, headers=headers)
        return Answer(resp.status_code, resp.json() if resp.content else None)


@pytest.fixture
async def desk(referral: Referral, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await deps.of(app).backend.close()
        deps.of(app).backend = ToReferral(referral)
        headers = {H_INTERNAL_TOKEN: settings.internal_secret, **person("kw-1")}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://desk", headers=headers) as client:
            yield client


async def test_find_debt_advice_near_them_in_their_language_and_text_it_once(
        referral: Referral, desk: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", needs=["debt"],
                                subject=subject(postcode="SW9 9ZZ", preferred_language="pl"))
    ref = created["reference"]
    page = await desk.get(f"/desk/r/{ref}")
    assert f'href="/desk/r/{ref}/services"' in page.text
    found = await desk.get(f"/desk/r/{ref}/services")  # filled in from the referral
    assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
    assert "1 service found" in found.text
    assert "Example: Stockwell Debt Advice" in found.text
    assert "West Norwood" not in found.text  # no Polish there
    action = re.search(r'action="(/desk/r/[^"]+/send)"', found.text)
    key = re.search(r'name="key" value="([^"]+)"', found.text)
    assert action and key
    form = {"agreed": "yes", "key": key.group(1), "csrf_token": "x"}
    first = await desk.post(action.group(1), data=form)
    again = await desk.post(action.group(1), data=form)
    assert first.status_code == again.status_code == 303
    confirmed = await desk.get(first.headers["location"])
    assert "Sent the details of Example: Stockwell Debt Advice by text" in confirmed.text
    await referral.until(lambda: referral.neighbours.to(SIGNPOST))
    assert len(referral.neighbours.to(SIGNPOST)) == 1
    story = await desk.get(f"/desk/r/{ref}")  # on the person's page, in their story
    assert ("Sent the details of Example: Stockwell Debt Advice by SMS, with the person's "
            "agreement.") in story.text.replace("&#39;", "'")


async def test_without_ticking_their_agreement_nothing_is_sent(
        referral: Referral, desk: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", needs=["debt"])
    ref = created["reference"]
    found = await desk.get(f"/desk/r/{ref}/services", params={
        "need": "debt", "postcode": "", "language": ""})
    action = re.search(r'action="(/desk/r/[^"]+/send)"', found.text)
    assert action
    resp = await desk.post(action.group(1), data={"key": "k" * 12, "csrf_token": "x"})
    page = await desk.get(resp.headers["location"])
    assert "Error: " in page.text and "tick that they agreed" in page.text
    assert referral.neighbours.to(SIGNPOST) == []
    bad = await desk.get(f"/desk/r/{ref}/services", params={"need": "debt",
                                                           "postcode": "nowhere"})
    assert "Enter a postcode like SW2 1AA" in bad.text


SIGNPOST_EMAIL = "/internal/signpost-emails"


def _forms(page: str) -> list[str]:
    """Each service's send form, as HTML."""
    return re.findall(r'<form method="post" action="/desk/r/[^"]+/send".*?</form>', page,
                      flags=re.S)


async def test_with_a_phone_and_an_email_they_choose_and_email_sends_once(
        referral: Referral, desk: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", needs=["debt"],
                                subject=subject(postcode="SW9 9ZZ", preferred_language="pl"))
    ref = created["reference"]
    found = await desk.get(f"/desk/r/{ref}/services")
    [form] = _forms(found.text)
    # Both ways offered as radio buttons, a text chosen already (still two taps to send).
    assert re.search(r'name="channel" type="radio" value="sms"\s+checked', form)
    assert re.search(r'name="channel" type="radio" value="email"(?!\s+checked)', form)
    assert "Send them by" in form and "Send them these details" in form
    action = re.search(r'action="(/desk/r/[^"]+/send)"', form)
    key = re.search(r'name="key" value="([^"]+)"', form)
    assert action and key
    data = {"agreed": "yes", "channel": "email", "key": key.group(1), "csrf_token": "x"}
    first = await desk.post(action.group(1), data=data)
    again = await desk.post(action.group(1), data=data)  # a double tap
    assert first.status_code == again.status_code == 303
    confirmed = await desk.get(first.headers["location"])
    assert "Sent the details of Example: Stockwell Debt Advice by email" in confirmed.text
    assert "Example: Stockwell Debt Advice by email</li>" in confirmed.text  # sent already
    await referral.until(lambda: referral.neighbours.to(SIGNPOST_EMAIL))
    assert len(referral.neighbours.to(SIGNPOST_EMAIL)) == 1
    assert referral.neighbours.to(SIGNPOST) == []
    story = await desk.get(f"/desk/r/{ref}")
    assert ("Sent the details of Example: Stockwell Debt Advice by email, with the person's "
            "agreement.") in story.text.replace("&#39;", "'")


async def test_a_way_the_referral_cannot_use_is_not_offered_and_says_why(
        referral: Referral, desk: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    cases = [({"email": None}, "sms", "There is no email address on this referral",
              "Text them these details"),
             ({"phone": None}, "email", "There is no mobile number on this referral",
              "Email them these details")]
    for missing, only, why, press in cases:
        created = await accepted_by(referral, "kw-1", needs=["debt"],
                                    subject=subject(**missing))
        found = await desk.get(f"/desk/r/{created['reference']}/services",
                               params={"need": "debt"})
        forms = _forms(found.text)
        assert forms, found.text
        for form in forms:
            assert 'type="radio"' not in form
            assert f'<input type="hidden" name="channel" value="{only}">' in form
            assert why in form and press in form
    nowhere = await accepted_by(referral, "kw-1", needs=["debt"], subject=subject(
        phone=None, email=None, address="1 Example Road, London"))
    found = await desk.get(f"/desk/r/{nowhere['reference']}/services", params={"need": "debt"})
    assert "Example: Stockwell Debt Advice" in found.text and _forms(found.text) == []
    assert "There is no mobile number or email address on this referral" in found.text


async def test_email_refused_by_referral_comes_back_explained_and_nothing_is_sent(
        referral: Referral, desk: httpx.AsyncClient) -> None:
    """A page shown before the referral lost its email address, or a form made by hand."""
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    created = await accepted_by(referral, "kw-1", needs=["debt"], subject=subject(email=None))
    found = await desk.get(f"/desk/r/{created['reference']}/services", params={"need": "debt"})
    action = re.search(r'action="(/desk/r/[^"]+/send)"', found.text)
    assert action
    resp = await desk.post(action.group(1), data={"agreed": "yes", "channel": "email",
                                                  "key": "e" * 12, "csrf_token": "x"})
    assert resp.status_code == 303
    page = await desk.get(resp.headers["location"])
    assert "Error: " in page.text
    assert "The details were not sent: there may be no email address on this referral" \
        in page.text
    listed = (await referral.client.get(
        f"/api/v1/desk/referrals/{created['reference']}/signposts",
        headers=person("kw-1"))).json()
    assert listed == []
