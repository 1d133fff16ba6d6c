"""Request targets and bodies sent the way an attacker's own client sends them: over a raw
socket, byte for byte (httpx and curl without --path-as-is remove dot segments before sending,
which is why the access tests never saw `/api/v1/referrals/../../../internal/…`)."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.security.conftest import issue_keys, referral
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

# Ways of writing "one segment up" (each with its own separator), as tried from outside.
STEPS = ["../", "%2e%2e/", "%2E%2E/", "%2E./", ".%2e/", "..%2f", "..%2F", "%2f../", "..\\",
         "..%5c", "%252e%252e/", "./../"]
PREFIXES = ["/api/v1/referrals/", "/fhir/", "/twilio/sms/", "/email/inbound/"]
DEPTHS = [1, 2, 3, 4]
VICTIM_PHONE = "+447700900777"
ORGS = [("Raw Police", "partner"), ("Raw Housing", "partner")]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def send_raw(stack: Stack, method: str, target: bytes, headers: dict[str, str],
                   body: bytes = b"", *, send_body: bool = True,
                   timeout: float = 15.0) -> Answer:
    """One HTTP/1.1 request written to the gateway's socket exactly as given."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.ports["gateway"])
    try:
        lines = [f"{method} ".encode() + target + b" HTTP/1.1",
                 f"Host: 127.0.0.1:{stack.ports['gateway']}".encode(), b"Connection: close"]
        if "Content-Length" not in headers:
            lines.append(f"Content-Length: {len(body)}".encode())
        lines += [f"{k}: {v}".encode() for k, v in headers.items()]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (body if send_body else b""))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {k.strip().lower(): v.strip() for k, _, v in
                  (h.partition(":") for h in header_lines if h)}
        length = int(parsed.get("content-length", "0"))
        rest = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        return Answer(int(status_line.split()[1]), parsed, rest)
    finally:
        writer.close()


def hostile_targets(referral_id: str) -> list[tuple[bytes, bytes]]:
    """(target, body) for every prefix, way of climbing, depth and internal endpoint."""
    inner = {
        f"internal/referrals/{referral_id}/events": {"event": "closed",
                                                     "at": "2030-01-01T00:00:00Z"},
        "internal/person-messages": {"message_key": f"raw:{uuid.uuid4().hex}",
                                     "to": VICTIM_PHONE, "template": "caller_confirmation",
                                     "reference": None, "respond_by": None},
    }
    out = []
    for prefix, step, depth, (path, body) in itertools.product(PREFIXES, STEPS, DEPTHS,
                                                               inner.items()):
        out.append(((prefix + step * depth + path).encode(), json.dumps(body).encode()))
    return out


async def test_dot_segments_in_any_spelling_never_reach_an_internal_endpoint(
    stack: Stack,
) -> None:
    await issue_keys(stack, *ORGS)
    police, housing = stack.auth("Raw Police"), stack.auth("Raw Housing")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        created = await http.post("/api/v1/referrals", headers=police,
                                  json=referral(external_reference="RAW-1"))
        assert created.status_code == 201, created.text
    victim = created.json()["id"]
    targets = hostile_targets(victim)
    assert len(targets) == len(PREFIXES) * len(STEPS) * len(DEPTHS) * 2
    gate = asyncio.Semaphore(8)

    async def attack(target: bytes, body: bytes) -> tuple[bytes, Answer]:
        async with gate:
            answer = await send_raw(stack, "POST", target,
                                    {**housing, "Content-Type": "application/json"}, body)
            return target, answer

    answers = await asyncio.gather(*(attack(t, b) for t, b in targets))
    wrong = [(t, a.status) for t, a in answers if a.status != 400]
    assert wrong == [], f"{len(wrong)} hostile targets were not refused: {wrong[:5]}"
    for _, answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        assert json.loads(answer.body)["errors"][0]["loc"] == ["path"]

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        mine = await http.get(f"/api/v1/referrals/{victim}", headers=police)
    assert mine.status_code == 200 and mine.json()["status"] != "closed", mine.text
    await stack.twilio.settle()
    assert await stack.twilio.messages(to=VICTIM_PHONE) == [], "an SMS went out from outside"


@pytest.mark.parametrize("target", [
    b"/api/v1/referrals/x%3Fstatus=closed", b"/api/v1/referrals/x%23y",
    b"/api/v1/referrals//x", b"/api/v1/referrals/x%00y", b"/api/v1/referrals/x%0d%0ay",
    b"/twilio/voice/%2e%2e/sms", b"/healthz/%2e%2e/metrics",
])
async def test_encoded_query_fragment_controls_and_empty_segments_are_refused(
    stack: Stack, target: bytes,
) -> None:
    await issue_keys(stack, *ORGS)
    answer = await send_raw(stack, "GET", target, stack.auth("Raw Police"))
    assert answer.status == 400, (target, answer.status, answer.body[:200])


async def test_a_trailing_slash_never_answers_with_an_internal_address(stack: Stack) -> None:
    await issue_keys(stack, *ORGS)
    answer = await send_raw(stack, "GET", b"/api/v1/referrals/", {
        **stack.auth("Raw Police"), "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example;proto=https"})
    assert answer.status < 500
    location = answer.headers.get("location", "")
    assert "evil.example" not in location
    for name, port in stack.ports.items():
        if name != "gateway":
            assert f":{port}" not in location, (name, location)


async def test_an_email_without_the_secret_is_refused_before_its_body_is_sent(
    stack: Stack,
) -> None:
    # 20 MB announced and never sent: the answer must not wait for it.
    answer = await send_raw(stack, "POST", b"/email/inbound", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "19999999"},
        send_body=False, timeout=5.0)
    assert answer.status == 401
    assert answer.headers["www-authenticate"].startswith("Basic")
