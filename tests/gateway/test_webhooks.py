from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator

from tests.gateway.conftest import GatewayHarness

CALL = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "2" * 32, "From": "+447700900123",
        "To": "+442000000000", "CallStatus": "ringing", "Direction": "inbound"}


def signed(path: str, params: dict[str, str], token: str = "test-twilio-token") -> dict[str, str]:
    sig = RequestValidator(token).compute_signature("https://line.example.org" + path, params)
    return {"X-Twilio-Signature": sig}


async def test_an_unsigned_voice_webhook_is_refused_and_nothing_is_forwarded(
    gw: GatewayHarness,
) -> None:
    resp = await gw.client.post("/twilio/voice", data=CALL)
    assert resp.status_code == 403
    assert resp.headers["content-type"] == "application/problem+json"
    assert gw.upstream.seen == []


async def test_a_signature_for_other_parameters_is_refused(gw: GatewayHarness) -> None:
    headers = signed("/twilio/voice", CALL)
    resp = await gw.client.post("/twilio/voice", data={**CALL, "From": "+447700900999"},
                                headers=headers)
    assert resp.status_code == 403
    assert gw.upstream.seen == []


async def test_a_signed_voice_webhook_reaches_intake_as_twilio(gw: GatewayHarness) -> None:
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert resp.status_code == 200
    assert resp.text.startswith("<Response>")
    (seen,) = gw.upstream.seen
    assert seen["path"] == "/twilio/voice"
    assert seen["headers"]["x-internal-token"] == gw.settings.internal_secret
    assert seen["headers"]["x-livewell-actor-kind"] == "twilio"
    assert "x-twilio-signature" not in seen["headers"]
    assert resp.headers["x-request-id"] == seen["headers"]["x-request-id"]


async def test_with_intake_down_a_caller_hears_999_and_is_put_through_to_the_crisis_line(
    gw: GatewayHarness,
) -> None:
    await gw.upstream.stop()
    started = time.perf_counter()
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert time.perf_counter() - started < 2.0
    assert resp.status_code == 200
    root = ET.fromstring(resp.text)
    says = [el.text or "" for el in root.iter("Say")]
    assert "999" in says[0]
    dial = root.find("Dial")
    assert dial is not None and (dial.text or "").strip() == "+441234567890"
    assert any("116 123" in s for s in says[1:]), "after the Dial the call must not end silent"


async def test_when_intake_is_slow_the_failsafe_answers_within_the_voice_timeout(
    gw: GatewayHarness,
) -> None:
    gw.upstream.delay = 3.0
    started = time.perf_counter()
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert time.perf_counter() - started < 1.5
    assert "999" in resp.text


async def test_an_sms_that_intake_cannot_take_is_kept_and_replayed_when_it_is_back(
    gw: GatewayHarness,
) -> None:
    sms = {"MessageSid": "SM" + "3" * 32, "From": "+447700900123", "To": "+442000000000",
           "Body": "hello", "NumMedia": "0"}
    gw.upstream.status = 503
    resp = await gw.client.post("/twilio/sms", data=sms, headers=signed("/twilio/sms", sms))
    assert resp.status_code == 200
    assert "999" in resp.text  # the holding reply still says what to do in danger
    gw.upstream.status = 200
    gw.upstream.seen.clear()
    state = gw.gateway.state
    assert state is not None
    state.clock.advance(5)  # past the replay delay; wakes the spool relay
    replays: list[dict[str, object]] = []
    for _ in range(100):
        replays = [s for s in gw.upstream.seen if b"MessageSid=SM333" in s["body"]]
        if replays:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    replays = [s for s in gw.upstream.seen if b"MessageSid=SM333" in s["body"]]
    assert len(replays) == 1, "replayed once, and a delivered replay is not sent again"
    assert replays[0]["path"] == "/twilio/sms"
    assert replays[0]["headers"]["x-livewell-actor-kind"] == "twilio"  # type: ignore[index]


async def test_an_email_webhook_needs_the_shared_secret(gw: GatewayHarness) -> None:
    form = {"from": "a@example.org", "to": "help@livingwell.example", "subject": "hi"}
    assert (await gw.client.post("/email/inbound", data=form)).status_code == 401
    bad = await gw.client.post("/email/inbound", data=form, auth=("mail", "wrong"))
    assert bad.status_code == 401
    good = await gw.client.post("/email/inbound", data=form, auth=("mail", "test-email-secret"))
    assert good.status_code == 200
    assert gw.upstream.seen[-1]["headers"]["x-livewell-actor-kind"] == "email"


async def test_a_body_over_the_limit_is_refused_with_413(gw: GatewayHarness) -> None:
    big = {"Body": "x" * 20_000, "MessageSid": "SM" + "4" * 32}
    resp = await gw.client.post("/twilio/sms", data=big, headers=signed("/twilio/sms", big))
    assert resp.status_code == 413
    assert gw.upstream.seen == []


async def test_after_repeated_timeouts_the_failsafe_answers_at_once(gw: GatewayHarness) -> None:
    gw.upstream.delay = 3.0
    for _ in range(3):  # each waits out the voice timeout (0.5 s here)
        await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    forwarded = len(gw.upstream.seen)
    started = time.perf_counter()
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert time.perf_counter() - started < 0.3, "the open breaker does not wait on intake"
    assert "999" in resp.text
    assert len(gw.upstream.seen) == forwarded, "nothing was sent to the stalled service"


async def test_a_call_intake_answered_but_could_not_record_is_kept_for_replay(
    gw: GatewayHarness,
) -> None:
    call = {**CALL, "CallSid": "CA" + "7" * 32}
    gw.upstream.extra_headers = {"x-livewell-unrecorded": "1"}
    resp = await gw.client.post("/twilio/voice", data=call, headers=signed("/twilio/voice", call))
    assert resp.text.startswith("<Response>")  # intake's own answer reaches the caller
    assert "x-livewell-unrecorded" not in resp.headers
    gw.upstream.extra_headers = {}
    state = gw.gateway.state
    assert state is not None
    state.clock.advance(5)

    async def replayed() -> int:
        return sum(b"CallSid=CA777" in s["body"] for s in gw.upstream.seen)

    for _ in range(100):
        if await replayed() >= 2:
            break
        await asyncio.sleep(0.05)
    assert await replayed() == 2, "answered once, then replayed once"


async def test_a_json_body_is_checked_through_its_body_hash(gw: GatewayHarness) -> None:
    import hashlib
    import json

    body = json.dumps(CALL).encode()
    digest = hashlib.sha256(body).hexdigest()
    path = f"/twilio/voice?bodySHA256={digest}"
    sig = RequestValidator("test-twilio-token").compute_signature(
        "https://line.example.org" + path, {})
    ok = await gw.client.post(path, content=body, headers={
        "X-Twilio-Signature": sig, "Content-Type": "application/json"})
    assert ok.status_code == 200
    no_hash = await gw.client.post("/twilio/voice", content=body, headers={
        "X-Twilio-Signature": sig, "Content-Type": "application/json"})
    assert no_hash.status_code == 403
    tampered = await gw.client.post(path, content=body.replace(b"ringing", b"ringinG"),
                                    headers={"X-Twilio-Signature": sig,
                                             "Content-Type": "application/json"})
    assert tampered.status_code == 403
