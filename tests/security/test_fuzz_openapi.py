"""Schemathesis against the gateway's merged OpenAPI document (`/openapi.json`): every public
operation, with a valid key of the right role, gets generated requests (bounded, repeatable);
no answer may be a 5xx."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.security.conftest import issue_keys
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

EXAMPLES = 6
PARTNER_PREFIXES = ("/api/v1/referrals", "/fhir")
EMAIL_AUTH = "Basic " + base64.b64encode(b"mail:e2e-email-secret").decode()


def _auth_for(path: str, keys: dict[str, str]) -> dict[str, str]:
    if path.startswith("/twilio/"):
        return {}  # unsigned: refused before any service sees it (signed ones: hostile tests)
    if path.startswith("/email/"):
        return {"Authorization": EMAIL_AUTH}
    role = "partner" if path.startswith(PARTNER_PREFIXES) else "staff"
    return {"Authorization": f"Bearer {keys[role]}"}


def fuzz(doc: dict[str, Any], base_url: str,
         keys: dict[str, str]) -> tuple[Counter[int], list[str]]:
    """Run every operation's examples; (statuses answered, the 5xx answers seen)."""
    schema = schemathesis.openapi.from_dict(doc)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        run = _runner(operation, base_url, session, _auth_for(operation.path, keys), failures,
                      statuses)
        try:
            run()
        except Unsatisfiable:
            continue
    return statuses, failures


def _runner(operation: Any, base_url: str, session: requests.Session, headers: dict[str, str],
            failures: list[str], statuses: Counter[int]) -> Any:
    """A Hypothesis test for one operation (call it to run it)."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit,
                                                                   Phase.generate])
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        resp = case.call(base_url=base_url, session=session, headers=headers, timeout=20)
        statuses[resp.status_code] += 1
        if resp.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {resp.status_code}: "
                            f"{resp.text[:200]}")

    return run


async def test_no_public_operation_answers_with_a_server_error(stack: Stack) -> None:
    await issue_keys(stack, ("Fuzz Police", "partner"), ("Fuzz Hub", "staff"))
    keys = {"partner": stack.key("Fuzz Police"), "staff": stack.key("Fuzz Hub", "staff")}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        doc = (await http.get("/openapi.json")).json()
    assert len(doc["paths"]) >= 10, sorted(doc["paths"])
    statuses, failures = await asyncio.to_thread(fuzz, doc, stack.gateway_url, keys)
    assert failures == [], "\n".join(failures)
    assert sum(statuses.values()) >= len(doc["paths"]), statuses
    accepted = sum(n for status, n in statuses.items() if status < 300)
    assert accepted >= len(doc["paths"]) // 2, f"too little got past validation: {statuses}"
    assert statuses[401] == 0, "every request carried a valid key"
