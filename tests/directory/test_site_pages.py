"""The website's advice pages find network services for their topic, nearest first, from
referral's open directory; nothing about the reader is kept; a directory that does not
answer still leaves a page with the ways to reach the line."""

from __future__ import annotations

from typing import Any

from services.site import deps
from tests.directory.conftest import seed_data
from tests.referral.conftest import Referral
from tests.site.conftest import SiteHarness, fake_intake, site  # noqa: F401
from tests.support.service import key_headers

STAFF = key_headers("Living Well Hub", role="staff")


class FromReferral:
    def __init__(self, referral: Referral) -> None:
        self.referral = referral
        self.paths: list[str] = []

    async def get(self, path: str) -> tuple[int, Any]:
        self.paths.append(path)
        resp = await self.referral.client.get(path)  # as a sibling service asks
        return resp.status_code, resp.json()


class Down:
    async def get(self, path: str) -> tuple[int, Any]:
        raise TimeoutError


def _use(harness: SiteHarness, reader: Any) -> None:
    deps.of(harness.app).directory = reader


async def test_the_debt_page_finds_debt_advice_nearest_the_postcode(
        referral: Referral, site: SiteHarness) -> None:  # noqa: F811
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    reader = FromReferral(referral)
    _use(site, reader)
    advice = await site.client.get("/advice/debt")
    assert 'href="/advice/debt/services"' in advice.text
    page = await site.client.get("/advice/debt/services", params={"postcode": "se27 9zz"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    norwood = page.text.index("Example: West Norwood Debt and Money Clinic")
    assert norwood < page.text.index("Example: Stockwell Debt Advice")
    assert 'href="tel:02079460103"' in page.text
    assert "Brixton Housing Advice" not in page.text


async def test_a_bad_postcode_is_named_and_a_silent_directory_still_shows_how_to_reach_us(
        referral: Referral, site: SiteHarness) -> None:  # noqa: F811
    _use(site, FromReferral(referral))
    bad = await site.client.get("/advice/debt/services", params={"postcode": "nowhere"})
    assert "<title>Error: " in bad.text and 'href="#postcode"' in bad.text
    _use(site, Down())
    down = await site.client.get("/advice/housing/services")
    assert down.status_code == 200 and "cannot show the list of services right now" in down.text
    assert (await site.client.get("/advice/wobbly-day/services")).status_code == 404
