"""The desk's directory editing in-process, over the real referral service: a coordinator
lists, searches, views, adds, edits and removes a service with plain forms; bad input comes
back on the form naming the field and changes nothing; a key worker is refused."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.common.context import H_INTERNAL_TOKEN
from services.common.settings import Settings
from services.desk import deps
from services.desk.app import create_app
from services.referral.directory.schema import problems
from tests.desk.test_referral_rules import person
from tests.directory.conftest import seed_data
from tests.directory.test_desk_pages import ToReferral
from tests.referral.conftest import Referral
from tests.support.service import key_headers

# pygal's import hook (see test_desk_pages): out before anything else is imported.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STAFF = key_headers("Living Well Hub", role="staff")
DEBT = "9a883173-c3ef-58ae-97f8-deda4433ba06"  # Example: Stockwell Debt Advice


async def _desk(referral: Referral, settings: Settings,
                role: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await deps.of(app).backend.close()
        deps.of(app).backend = ToReferral(referral)
        headers = {H_INTERNAL_TOKEN: settings.internal_secret, **person(None, role)}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://desk", headers=headers) as client:
            yield client


@pytest.fixture
async def coordinator(referral: Referral, settings: Settings
                      ) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _desk(referral, settings, "coordinator"):
        yield client


@pytest.fixture
async def key_worker(referral: Referral, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _desk(referral, settings, "key_worker"):
        yield client


async def _export(referral: Referral) -> dict[str, Any]:
    resp = await referral.client.get("/api/v1/directory/export", headers=STAFF)
    body: dict[str, Any] = resp.json()
    return body


def _debt_term() -> str:
    terms = seed_data()["taxonomies"][0]["taxonomy_terms"]
    return str(next(t["id"] for t in terms if t.get("term") == "debt"))


NEW = {"csrf_token": "x", "name": "Example: Brixton Money Help",
       "description": "Debt and budgeting help, example data.",
       "organization": "Example: South London Money Advice", "phone": "020 7946 0999",
       "email": "money@example.org", "url": "https://example.org/brixton_money",
       "address": "9 Example Road, Brixton", "postcode": "sw2 1aa",
       "hours": "MO,TU,WE,TH,FR 09:00-17:00\nSA 10:00-12:30", "languages": "en, pt",
       "areas": "Lambeth"}


async def test_a_coordinator_adds_finds_edits_and_removes_a_service(
        referral: Referral, coordinator: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    listing = await coordinator.get("/desk/directory")
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    assert "8 services" in listing.text and "Example: Stockwell Debt Advice" in listing.text
    found = await coordinator.get("/desk/directory", params={"q": "stockwell debt"})
    assert "1 service matching" in found.text

    added = await coordinator.post("/desk/directory/new",
                                   data={**NEW, "needs": [_debt_term()]})
    assert added.status_code == 303, added.text[added.text.find("problem"):][:1500]
    page = await coordinator.get(added.headers["location"])
    assert "The service was added" in page.text and "020 7946 0999" in page.text
    sid = added.headers["location"].split("/")[3].split("?")[0]
    doc = (await referral.client.get(f"/openreferral/services/{sid}")).json()
    assert problems("service", doc) == []
    assert doc["organization"]["id"] == "6447bb3f-cc25-5075-bb02-2a73ce7392fc"  # shared
    assert [s["byday"] for s in doc["schedules"]] == ["MO,TU,WE,TH,FR", "SA"]
    assert [lang["name"] for lang in doc["languages"]] == ["English", "Portuguese"]
    near = (await referral.client.get("/openreferral/services", params={
        "taxonomy_term_id": "debt", "postcode": "SW2", "language": "pt"})).json()
    assert [s["name"] for s in near["contents"]] == ["Example: Brixton Money Help"]

    before = (await referral.client.get(f"/openreferral/services/{DEBT}")).json()
    form = await coordinator.get(f"/desk/directory/{DEBT}/edit")
    assert 'value="020 7946 0102"' in form.text and "MO,TU,WE,TH,FR 09:00-17:00" in form.text
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form.text))
    fields["hours"] = "MO,TU,WE,TH,FR 09:00-17:00\nSA 10:00-13:00"
    fields["languages"], fields["areas"] = "en, pl", "Lambeth"
    fields["description"] = before["description"]
    fields["phone"] = "020 7946 0111"
    changed = await coordinator.post(f"/desk/directory/{DEBT}/edit",
                                     data={**fields, "needs": [_debt_term()]})
    assert changed.status_code == 303
    after = (await referral.client.get(f"/openreferral/services/{DEBT}")).json()
    assert after["contacts"][0]["phones"][0]["number"] == "020 7946 0111"
    # Only the phone changed: what the form does not show (ids, descriptions of opening
    # times, the address's other lines, a service area's words) is kept as it was.
    after["contacts"][0]["phones"][0]["number"] = "020 7946 0102"
    assert {k: v for k, v in after.items() if k != "last_modified"} == {
        k: v for k, v in before.items() if k != "last_modified"}

    removed = await coordinator.post(f"/desk/directory/{sid}/remove", data={"csrf_token": "x"})
    assert removed.headers["location"] == "/desk/directory?done=removed"
    assert (await referral.client.get(f"/openreferral/services/{sid}")).status_code == 404
    assert "8 services" in (await coordinator.get(removed.headers["location"])).text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Enter the service&#39;s name"),
    ("postcode", "nowhere", "Enter a full postcode like SW9 9AA"),
    ("hours", "MO 09:00-17:00\nweekdays", "Line 2 of the opening times"),
    ("languages", "English", "Enter language codes like en, pl, pt"),
    ("email", "not an address", "Enter an email address"),
])
async def test_bad_input_is_shown_on_its_field_and_changes_nothing(
        referral: Referral, coordinator: httpx.AsyncClient, field: str, value: str,
        message: str) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    before = await _export(referral)
    resp = await coordinator.post("/desk/directory/new", data={**NEW, field: value})
    assert resp.status_code == 422
    assert "<title>Error: Add a service" in resp.text
    assert f'href="#{field}"' in resp.text and message in resp.text
    assert f'id="{field}-error"' in resp.text  # the message at the field itself
    edit = await coordinator.post(f"/desk/directory/{DEBT}/edit", data={**NEW, field: value})
    assert edit.status_code == 422
    assert await _export(referral) == before


async def test_a_key_worker_can_neither_see_nor_change_the_directory_here(
        referral: Referral, key_worker: httpx.AsyncClient) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    before = await _export(referral)
    for path in ("/desk/directory", f"/desk/directory/{DEBT}", "/desk/directory/new"):
        assert (await key_worker.get(path)).status_code == 403
    for path in ("/desk/directory/new", f"/desk/directory/{DEBT}/edit",
                 f"/desk/directory/{DEBT}/remove"):
        assert (await key_worker.post(path, data=NEW)).status_code == 403
    assert await _export(referral) == before
