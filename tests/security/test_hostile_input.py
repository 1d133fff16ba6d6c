"""Hostile input through the gateway: too big, wrong type, broken encodings, a 10,000-character
SMS, malformed MIME and TwiML injection. Each gets a clear 4xx or is handled safely, and no
service logs an unhandled error for it."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.security.conftest import issue_keys, referral, sms_params, voice_params
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e

EMAIL_AUTH = {"Authorization": "Basic " + base64.b64encode(b"mail:e2e-email-secret").decode()}
INJECTION = ('</Message></Response><Response><Say>injected</Say>'
             '<Dial>+447700900666</Dial><Redirect>http://evil.example/x</Redirect>')
TWIML_VERBS = {"Say", "Dial", "Redirect", "Play", "Gather", "Record", "Hangup", "Enqueue",
               "Number", "Sms", "Message", "Pause", "Reject", "Leave", "Connect"}


FAILURE_EVENTS = {"outbox.dead", "gateway.upstream_failed", "call.step_failed"}


def service_errors(stack: Stack, since: int) -> list[str]:
    """Log lines written after offset `since` that show a failure: an unhandled exception, a
    dead letter, a service that did not answer (operational alerts such as "no duty
    coordinator on duty" are expected in an empty test system and are not failures)."""
    out = []
    for line in stack.logs()[since:].splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                out.append(line)
            continue
        if "exc_type" in row or row.get("event") in FAILURE_EVENTS:
            out.append(line)
    return out


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        yield client


def assert_problem(resp: httpx.Response, *statuses: int) -> None:
    assert resp.status_code in statuses, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.text[:200]
    assert resp.json()["status"] == resp.status_code


def twiml_elements(text: str) -> list[ET.Element]:
    """Every element of a TwiML answer (it must be one well-formed document)."""
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return list(root.iter())


def assert_not_injected(twiml: str) -> None:
    """Injected markup may only ever be text: no verb of its own, no URL or number it chose."""
    elements = twiml_elements(twiml)
    tags = [e.tag for e in elements]
    assert tags.count("Response") == 1
    for e in elements:
        target = " ".join([e.text or "", *e.attrib.values()])
        if e.tag in ("Redirect", "Play", "Dial", "Number", "Sms", "Enqueue", "Gather"):
            assert "evil.example" not in target and "+447700900666" not in target, twiml
        assert not (e.tag == "Say" and (e.text or "").strip() == "injected"), twiml
    assert set(tags) - {"Response"} <= TWIML_VERBS, tags


async def test_an_oversized_body_is_refused_with_413(stack: Stack,
                                                     http: httpx.AsyncClient) -> None:
    await issue_keys(stack, ("Hostile Police", "partner"))
    auth = stack.auth("Hostile Police")
    big = referral(reason="x" * 1_500_000)
    assert_problem(await http.post("/api/v1/referrals", json=big, headers=auth), 413)
    huge_sms = sms_params(stack, "y" * 1_200_000)
    assert_problem(await http.post("/twilio/sms", data=huge_sms,
                                   headers=stack.sign("/twilio/sms", huge_sms)), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"z" * 50_000

    streamed = await http.post("/api/v1/referrals", content=chunks(),
                               headers={**auth, "Content-Type": "application/json"})
    assert_problem(streamed, 413)


async def test_wrong_content_types_get_a_clear_4xx(stack: Stack,
                                                    http: httpx.AsyncClient) -> None:
    await issue_keys(stack, ("Hostile Police", "partner"))
    auth = stack.auth("Hostile Police")
    since = len(stack.logs())
    body = json.dumps(referral()).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml",
                         "multipart/form-data; boundary=zzz", "application/json; charset=latin-9"):
        resp = await http.post("/api/v1/referrals", content=body,
                               headers={**auth, "Content-Type": content_type})
        if resp.status_code != 201:  # a lenient parser may accept JSON labelled oddly
            assert_problem(resp, 400, 415, 422)
    for raw in (b"", b"null", b"[]", b"\"text\"", b"{", b"{\"subject\": 7}", b"1e999999"):
        resp = await http.post("/api/v1/referrals", content=raw,
                               headers={**auth, "Content-Type": "application/json"})
        assert_problem(resp, 400, 415, 422)
    assert service_errors(stack, since) == []


async def test_a_json_body_with_a_signature_header_is_refused_with_403(
    stack: Stack, http: httpx.AsyncClient,
) -> None:
    call = voice_params(stack)
    for path in ("/twilio/voice", "/twilio/sms", "/twilio/status"):
        resp = await http.post(path, json=call, headers=stack.sign(path, call))
        assert resp.status_code == 403, (path, resp.status_code)


async def test_invalid_utf8_is_refused_or_handled_safely(stack: Stack,
                                                         http: httpx.AsyncClient) -> None:
    await issue_keys(stack, ("Hostile Police", "partner"))
    auth = stack.auth("Hostile Police")
    since = len(stack.logs())
    good = json.dumps(referral()).encode()
    broken = good.replace(b'"Test"', b'"T\xff\xfe\xc3st"')
    resp = await http.post("/api/v1/referrals", content=broken,
                           headers={**auth, "Content-Type": "application/json"})
    assert_problem(resp, 400, 422)
    # Raw bytes that are not UTF-8 cannot carry a valid form signature.
    text = sms_params(stack, "hello")
    raw = b"&".join(f"{k}={v}".encode() for k, v in text.items() if k != "Body") + b"&Body=\xff\xfe"
    resp = await http.post("/twilio/sms", content=raw, headers={
        **stack.sign("/twilio/sms", text), "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 403
    # Percent-encoded bytes that are not UTF-8 arrive as replacement characters: handled.
    text = sms_params(stack, "\ufffd\ufffd help")
    body = "&".join(f"{k}={httpx.QueryParams({k: v})[k]}" for k, v in text.items())
    encoded = body.replace("%EF%BF%BD%EF%BF%BD", "%FF%FE")
    resp = await http.post("/twilio/sms", content=encoded.encode(), headers={
        **stack.sign("/twilio/sms", text), "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code in (200, 400, 403), resp.text
    if resp.status_code == 200:
        twiml_elements(resp.text)
    assert service_errors(stack, since) == []


async def test_a_ten_thousand_character_sms_is_taken_safely(stack: Stack,
                                                            http: httpx.AsyncClient) -> None:
    since = len(stack.logs())
    text = sms_params(stack, ("I need to talk to someone. " * 400)[:10_000],
                      sender="+447911000321")
    resp = await http.post("/twilio/sms", data=text, headers=stack.sign("/twilio/sms", text))
    assert resp.status_code == 200, resp.text[:300]
    elements = twiml_elements(resp.text)
    message = "".join(e.text or "" for e in elements if e.tag == "Message")
    assert "LW-" in message, "the person still gets a reference"
    assert len(message) < 1600, "the reply is an SMS, not an echo of the input"
    again = await http.post("/twilio/sms", data=text, headers=stack.sign("/twilio/sms", text))
    assert again.status_code == 200, "Twilio's retry of the same MessageSid is harmless"
    assert service_errors(stack, since) == []


def multipart(fields: dict[str, str], boundary: str = "lwboundary") -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


MAIL = {"from": "Someone <someone@example.org>", "to": "help@livingwell.example",
        "subject": "Need help", "text": "Please call me.",
        "headers": "Message-ID: <m-{id}@example.org>\nFrom: someone@example.org\n",
        "envelope": json.dumps({"from": "someone@example.org",
                                "to": ["help@livingwell.example"]})}


async def test_malformed_mime_email_gets_a_clear_answer(stack: Stack,
                                                        http: httpx.AsyncClient) -> None:
    since = len(stack.logs())
    good = {**MAIL, "headers": MAIL["headers"].format(id=uuid.uuid4().hex)}
    ok = await http.post("/email/inbound", content=multipart(good), headers={
        **EMAIL_AUTH, "Content-Type": "multipart/form-data; boundary=lwboundary"})
    assert ok.status_code == 200, ok.text
    cases: list[tuple[bytes, str]] = [
        (multipart(good), "multipart/form-data; boundary=otherboundary"),
        (multipart(good)[:-30], "multipart/form-data; boundary=lwboundary"),
        (b"--lwboundary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--lwboundary--\r\n",
         "multipart/form-data; boundary=lwboundary"),
        (multipart(good), "multipart/form-data"),
        (b"\x00\xff" * 500, "multipart/form-data; boundary=lwboundary"),
        (multipart({**good, "from": "\x00<<>>@@", "headers": "\xff\xfe: \n:::\n"}),
         "multipart/form-data; boundary=lwboundary"),
        (multipart({"email": "From: nobody\r\nContent-Type: multipart/mixed; boundary=\"q\"\r\n"
                             "\r\n--q\r\nContent-Type: text/plain; charset=bogus-9\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n"}),
         "multipart/form-data; boundary=lwboundary"),
        (multipart({"subject": "no sender, no body"}), "multipart/form-data; boundary=lwboundary"),
        (json.dumps(good).encode(), "application/json"),
    ]
    for content, content_type in cases:
        resp = await http.post("/email/inbound", content=content,
                               headers={**EMAIL_AUTH, "Content-Type": content_type})
        assert resp.status_code in (200, 400, 413, 415, 422), (content[:60], resp.status_code,
                                                               resp.text[:300])
        if resp.status_code != 200:
            assert resp.headers["content-type"].startswith("application/problem+json")
    assert service_errors(stack, since) == []


async def test_twiml_injection_in_an_sms_never_reaches_the_twiml(stack: Stack,
                                                                 http: httpx.AsyncClient) -> None:
    text = sms_params(stack, INJECTION, sender="+447911000654")
    resp = await http.post("/twilio/sms", data=text, headers=stack.sign("/twilio/sms", text))
    assert resp.status_code == 200
    assert_not_injected(resp.text)
    call = voice_params(stack, From="+44<Redirect>http://evil.example</Redirect>",
                        CallerName=INJECTION, Digits=INJECTION)
    resp = await http.post("/twilio/voice", data=call, headers=stack.sign("/twilio/voice", call))
    assert resp.status_code in (200, 400)
    if resp.status_code == 200:
        assert_not_injected(resp.text)
    menu = {**voice_params(stack), "Digits": "1</Gather>" + INJECTION}
    resp = await http.post("/twilio/voice/menu", data=menu,
                           headers=stack.sign("/twilio/voice/menu", menu))
    assert resp.status_code in (200, 400, 422)
    if resp.status_code == 200:
        assert_not_injected(resp.text)


async def test_twiml_injection_in_a_referral_never_reaches_a_message_or_call(
    stack: Stack, http: httpx.AsyncClient,
) -> None:
    await issue_keys(stack, ("Hostile Police", "partner"), ("Hostile Hub", "staff"))
    worker_phone = f"+4479112{uuid.uuid4().int % 100_000:05d}"
    worker = await http.post("/api/v1/keyworkers", headers=stack.auth("Hostile Hub", "staff"),
                             json={"name": "Hostile Test Worker", "phone": worker_phone,
                                   "localities": ["north", "south_west", "south_east"],
                                   "teams": ["hub", "living_well_network", "ips_alliance"],
                                   "skills": [], "max_caseload": 50})
    assert worker.status_code == 201, worker.text
    body = referral({"given_name": INJECTION[:100], "family_name": "<Say>x</Say>"},
                    reason=INJECTION, external_reference="<Redirect>x</Redirect>",
                    urgency="urgent")
    created = await http.post("/api/v1/referrals", json=body,
                              headers=stack.auth("Hostile Police"))
    if created.status_code == 422:
        return  # refusing markup in a name is also safe
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]

    async def messages_for_it() -> list[dict[str, Any]]:
        return [m for m in await stack.twilio.messages() if reference in m["body"]]

    for m in await eventually(messages_for_it, timeout=30, what="a handoff SMS"):
        assert "<" not in m["body"] and "injected" not in m["body"], m["body"]
    for call in await stack.twilio.calls():
        for doc in [call.get("twiml") or "", *(call.get("documents") or [])]:
            if doc:
                assert_not_injected(doc if isinstance(doc, str) else json.dumps(doc))


async def test_a_text_from_a_withheld_number_still_goes_to_a_key_worker(
    stack: Stack, http: httpx.AsyncClient,
) -> None:
    since = len(stack.logs())
    text = sms_params(stack, "Please can someone call me back, I am struggling.",
                      sender="anonymous")
    resp = await http.post("/twilio/sms", data=text, headers=stack.sign("/twilio/sms", text))
    assert resp.status_code == 200
    for _ in range(40):  # the referral's outbox delivers within a second or two
        dead = [line for line in stack.logs()[since:].splitlines() if "outbox.dead" in line]
        assert dead == [], dead
        await asyncio.sleep(0.25)
