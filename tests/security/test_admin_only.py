"""What only an admin key may do inside the services: reloading the routing rules in force.

Keys and staff accounts are managed with the `livewell` CLI by an operator, never over HTTP;
a staff key does the day-to-day work (roster, rota, SLA lists, people) but does not change
the rules every referral is routed by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from services.common.settings import Settings
from services.referral.app import create_app
from tests.referral.conftest import copy_rules
from tests.support.service import ServiceHarness, key_headers, running_service

PARTNER = key_headers("Admin Test Police")
STAFF = key_headers("Admin Test Hub", "staff")
ADMIN = key_headers("Admin Test Hub", "admin", key_id="key-admin")


@pytest.fixture
async def referral(settings: Settings, tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    factory = partial(create_app, rules_path=copy_rules(tmp_path))
    async with running_service("referral", factory, settings) as harness:
        yield harness


async def test_a_staff_key_cannot_reload_the_routing_rules(referral: ServiceHarness) -> None:
    for headers in (STAFF, PARTNER):
        resp = await referral.client.post("/api/v1/routing/reload", headers=headers)
        assert resp.status_code == 403, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert "admin" in resp.json()["detail"]
    resp = await referral.client.post("/api/v1/routing/reload", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert resp.json()["changed"] is False


async def test_staff_still_read_the_rules_in_force(referral: ServiceHarness) -> None:
    resp = await referral.client.get("/api/v1/routing/rules", headers=STAFF)
    assert resp.status_code == 200 and resp.json()["version"]
