"""Request targets sent byte for byte, as an attacker's own client would (curl --path-as-is, a
raw socket): no spelling of `..` takes a partner key from a public route to `/internal/…`, and
the services themselves refuse such paths and never redirect to their own address.

httpx (like most clients) resolves `..` before sending, which is why these tests write the
request line themselves.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest

from tests.security.conftest import issue_keys, referral
from tests.support.stack import INTERNAL_TOKEN, Stack

pytestmark = pytest.mark.e2e

OWNER, ATTACKER = ("Raw Path Owner", "partner"), ("Raw Path Attacker", "partner")

# Each spelling of one step up, and the ways of joining steps; `{up}` is repeated per depth.
UPS = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "..%2f", "..%2F", "%2f..", "..%5c", "..\\",
       "%252e%252e"]
PUBLIC_PREFIXES = ["/api/v1/referrals", "/api/v1/webhooks", "/fhir/ServiceRequest",
                   "/twilio/sms", "/api/v1/keyworkers"]


def targets(internal: str) -> list[str]:
    """Every prefix × spelling × depth 1-5, aimed at `internal` (which starts with /internal)."""
    out = []
    for prefix in PUBLIC_PREFIXES:
        for up in UPS:
            for depth in range(1, 6):
                joined = up * depth if up.endswith(("%2f", "%2F", "%5c", "\\")) \
                    else "/".join([up] * depth)
                sep = "" if joined.endswith(("%2f", "%2F", "%5c", "\\")) else "/"
                out.append(f"{prefix}/{joined}{sep}{internal.lstrip('/')}")
    return out


async def raw_request(url: str, method: str, target: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request with the request target exactly as given."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
                f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=20)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    fields = dict(line.decode("latin-1").split(": ", 1) for line in header_block.split(b"\r\n")
                  if b": " in line)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, payload


async def test_dot_segments_never_reach_another_organisations_referral(stack: Stack) -> None:
    await issue_keys(stack, OWNER, ATTACKER)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        created = await http.post("/api/v1/referrals", headers=stack.auth(*OWNER),
                                  json=referral())
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
    attacker = {**stack.auth(*ATTACKER), "Content-Type": "application/json"}
    close = json.dumps({"event": "closed", "outcome": "supported"}).encode()
    reached = []
    for target in targets(f"/internal/referrals/{rid}/events"):
        status, _, body = await raw_request(stack.gateway_url, "POST", target, attacker, close)
        if status < 400 or status >= 500:
            reached.append((target, status, body[:120]))
    for target in targets("/internal/rota/on-duty?role=crisis_duty"):
        status, _, body = await raw_request(stack.gateway_url, "GET", target, attacker)
        if status < 400 or status >= 500 or b"phone" in body:
            reached.append((target, status, body[:120]))
    assert reached == []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        after = await http.get(f"/api/v1/referrals/{rid}", headers=stack.auth(*OWNER))
    assert after.json()["status"] != "closed"


async def test_each_service_refuses_internal_paths_for_a_forwarded_key(stack: Stack) -> None:
    """The services' own wall, on the running processes, with the headers the gateway adds."""
    as_gateway = {"x-internal-token": INTERNAL_TOKEN, "x-livewell-actor-kind": "key",
                  "x-livewell-org": "Raw Path Attacker", "x-livewell-role": "admin",
                  "x-livewell-key-id": "k1", "Content-Type": "application/json"}
    probes = {"intake": "/internal/people/resolve", "referral": "/internal/referrals",
              "keyperson": "/internal/rota/on-duty", "notify": "/internal/person-messages"}
    for service, path in probes.items():
        url = stack.service_url(service)
        status, _, _ = await raw_request(url, "POST", path, as_gateway, b"{}")
        assert status == 404, (service, path, status)
        status, _, _ = await raw_request(url, "POST", f"/api/v1/x/..{path}", as_gateway, b"{}")
        assert status == 400, (service, status)
        twilio = {**as_gateway, "x-livewell-actor-kind": "twilio"}
        status, _, _ = await raw_request(url, "POST", path, twilio, b"{}")
        assert status == 404, (service, path, status)


async def test_a_trailing_slash_is_a_404_and_forwarded_headers_change_nothing(
    stack: Stack,
) -> None:
    await issue_keys(stack, ATTACKER)
    spoof = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
             "X-Forwarded-For": "10.9.8.7", "Forwarded": "proto=https;host=evil.example"}
    status, headers, body = await raw_request(
        stack.gateway_url, "GET", "/api/v1/referrals/", {**stack.auth(*ATTACKER), **spoof})
    assert status == 404, (status, headers)
    assert "location" not in headers and b"127.0.0.1" not in body
    as_gateway = {"x-internal-token": INTERNAL_TOKEN, "x-livewell-actor-kind": "key",
                  "x-livewell-org": "Raw Path Attacker", "x-livewell-role": "partner",
                  "x-livewell-key-id": "k1", **spoof}
    status, headers, body = await raw_request(stack.service_url("referral"), "GET",
                                              "/api/v1/referrals/", as_gateway)
    assert status == 404 and "location" not in headers, (status, headers)
    assert b"evil.example" not in body and b"127.0.0.1" not in body
