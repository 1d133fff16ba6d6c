from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.common.settings import Settings
from services.keyperson.app import create_app
from tests.support.service import ServiceHarness, key_headers, running_service

STAFF = key_headers("Living Well Hub", "staff")


@pytest.fixture
async def keyperson(settings: Settings) -> AsyncIterator[ServiceHarness]:
    async with running_service("keyperson", create_app, settings) as harness:
        yield harness


async def test_staff_adds_a_key_worker_and_the_mobile_is_stored_in_e164(
    keyperson: ServiceHarness,
) -> None:
    body = {"name": "Ada Key", "phone": "07911 123456", "localities": ["south_west"],
            "teams": ["hub"], "skills": ["lang:pl"], "max_caseload": 20}
    resp = await keyperson.client.post("/api/v1/keyworkers", json=body, headers=STAFF)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["phone"] == "+447911123456"
    got = await keyperson.client.get(f"/api/v1/keyworkers/{created['id']}", headers=STAFF)
    assert got.json()["localities"] == ["south_west"]


async def test_a_bad_phone_is_a_problem_naming_the_field(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.post("/api/v1/keyworkers", headers=STAFF,
                                       json={"name": "X", "phone": "12"})
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["errors"][0]["loc"] == ["phone"]


async def test_a_partner_key_cannot_read_the_roster(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.get("/api/v1/keyworkers", headers=key_headers("Police"))
    assert resp.status_code == 403


async def test_without_the_internal_token_a_service_refuses(keyperson: ServiceHarness) -> None:
    resp = await keyperson.client.get("/api/v1/keyworkers",
                                      headers={**STAFF, "x-internal-token": "wrong"})
    assert resp.status_code == 403
