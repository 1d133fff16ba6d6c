"""Schemathesis against the gateway's merged OpenAPI document (`/openapi.json`), as a partner's
developer generating a client from it would: every public operation gets generated requests
(bounded, repeatable) with a partner, a staff and an admin key. No answer may be a 5xx, and
every answer must be documented: its status, its media type and the shape of its body."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import issue_keys
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

# Examples per operation: the role's own operations get more, the others (which should all be
# a documented 403) a few. About 400 requests per role: well within the test timeout.
OWN_EXAMPLES = 6
OTHER_EXAMPLES = 2
# Hypothesis's deadline per example (one request): far above what any answer should take on a
# loaded machine, so that only a request that hangs fails on time.
DEADLINE = timedelta(seconds=15)
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
PARTNER_PREFIXES = ("/api/v1/referrals", "/fhir")
EMAIL_AUTH = "Basic " + base64.b64encode(b"mail:e2e-email-secret").decode()
ORGS = {"partner": "Fuzz Police", "staff": "Fuzz Hub", "admin": "Fuzz Admin"}


@dataclass
class Findings:
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)


def _auth_for(path: str, key: str) -> dict[str, str]:
    if path.startswith("/twilio/"):
        return {}  # unsigned: refused before any service sees it (signed ones: hostile tests)
    if path.startswith("/email/"):
        return {"Authorization": EMAIL_AUTH}
    return {"Authorization": f"Bearer {key}"}


def _examples(path: str, role: str) -> int:
    if path.startswith(("/twilio/", "/email/")):
        return OTHER_EXAMPLES if role == "partner" else 0  # the same for every key: once
    own = path.startswith(PARTNER_PREFIXES) if role == "partner" else True
    return OWN_EXAMPLES if own else OTHER_EXAMPLES


def fuzz(doc: dict[str, Any], base_url: str, role: str, key: str) -> Findings:
    """Run every operation's examples with `key` (of `role`) and check every answer."""
    schema = schemathesis.openapi.from_dict(doc)
    findings = Findings()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        examples = _examples(operation.path, role)
        if not examples:
            continue
        run = _runner(operation, base_url, session, _auth_for(operation.path, key), examples,
                      findings)
        try:
            run()
        except Unsatisfiable:
            continue
    return findings


def _runner(operation: Any, base_url: str, session: requests.Session, headers: dict[str, str],
            examples: int, findings: Findings) -> Any:
    """A Hypothesis test for one operation (call it to run it)."""

    @settings(max_examples=examples, deadline=DEADLINE, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        resp = case.call(base_url=base_url, session=session, headers=headers, timeout=20)
        findings.statuses[resp.status_code] += 1
        said = f"{case.method} {case.formatted_path} -> {resp.status_code}"
        if resp.status_code >= 500:
            findings.server_errors.append(f"{said}: {resp.text[:200]}")
        try:
            case.validate_response(resp, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:  # a failed check, or several grouped
            findings.undocumented.append(f"{said} {resp.headers.get('content-type')}: "
                                         f"{str(exc)[:600]}")

    return run


@pytest.mark.parametrize("role", ["partner", "staff", "admin"])
async def test_every_answer_is_documented_and_none_is_a_server_error(stack: Stack,
                                                                     role: str) -> None:
    await issue_keys(stack, *((org, r) for r, org in ORGS.items()))
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        doc = (await http.get("/openapi.json")).json()
    assert len(doc["paths"]) >= 10, sorted(doc["paths"])
    found = await asyncio.to_thread(fuzz, doc, stack.gateway_url, role,
                                    stack.key(ORGS[role], role))
    assert found.server_errors == [], "\n".join(found.server_errors)
    assert found.undocumented == [], "\n".join(found.undocumented)
    statuses = found.statuses
    assert sum(statuses.values()) >= len(doc["paths"]), statuses
    accepted = sum(n for status, n in statuses.items() if status < 300)
    # A partner's key is refused (403) everywhere but its referrals and FHIR.
    enough = 5 if role == "partner" else len(doc["paths"]) // 2
    assert accepted >= enough, f"too little got past validation: {statuses}"
    assert statuses[401] == 0, "every request carried a valid key"
