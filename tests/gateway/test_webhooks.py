from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from base64 import b64decode, b64encode
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from gateway.state import GatewayState
from tests.gateway.conftest import GatewayHarness, gateway_harness
from tests.support.stack import eventually

CALL = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "2" * 32, "From": "+447700900123",
        "To": "+442000000000", "CallStatus": "ringing", "Direction": "inbound"}


async def delivered(state: GatewayState, marker: bytes) -> bool:
    """The spooled webhook whose body holds `marker` was replayed and marked delivered: the
    relay is done with it, so what the service received of it is final. (The database is
    shared by the session's tests: rows other tests left are not this test's.)"""
    async with state.db.sessionmaker() as session:
        rows = (await session.scalars(select(state.relay.model))).all()
    mine = [row for row in rows if marker in b64decode(row.payload["body"])]
    return bool(mine) and all(row.delivered_at is not None for row in mine)


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
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert resp.status_code == 200
    root = ET.fromstring(resp.text)
    says = [el.text or "" for el in root.iter("Say")]
    assert "999" in says[0]
    dial = root.find("Dial")
    assert dial is not None and (dial.text or "").strip() == "+441234567890"
    assert any("116 123" in s for s in says[1:]), "after the Dial the call must not end silent"


async def test_when_intake_is_slow_the_failsafe_answers_within_the_voice_timeout(
    gw_short: GatewayHarness,
) -> None:
    gw = gw_short
    gw.upstream.delay = 30.0  # intake's own answer ("hi") would come long after the timeout
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    assert "999" in resp.text
    assert "<Say>hi</Say>" not in resp.text


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
    await eventually(lambda: delivered(state, b"MessageSid=SM333"),
                     what="the spooled SMS to be replayed")
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
    big = {"Body": "x" * 70_000, "MessageSid": "SM" + "4" * 32}
    resp = await gw.client.post("/twilio/sms", data=big, headers=signed("/twilio/sms", big))
    assert resp.status_code == 413
    assert gw.upstream.seen == []


async def test_after_repeated_timeouts_the_failsafe_answers_at_once(
    gw_short: GatewayHarness,
) -> None:
    gw = gw_short
    gw.upstream.delay = 30.0
    for _ in range(3):  # each waits out the voice timeout (0.5 s here)
        await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
    forwarded = len(gw.upstream.seen)
    resp = await gw.client.post("/twilio/voice", data=CALL, headers=signed("/twilio/voice", CALL))
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

    await eventually(lambda: delivered(state, b"CallSid=CA777"),
                     what="the unrecorded call to be replayed")
    assert await replayed() == 2, "answered once, then replayed once"


async def test_a_json_body_is_checked_through_its_body_hash(gw: GatewayHarness) -> None:
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


async def test_every_value_of_a_repeated_form_parameter_is_signed_as_twilio_signs_them(
    gw: GatewayHarness,
) -> None:
    from multidict import MultiDict

    pairs = [*CALL.items(), ("StirVerstat", "TN-Validation-Passed-A"),
             ("StirVerstat", "TN-Validation-Passed-C")]
    sig = RequestValidator("test-twilio-token").compute_signature(
        "https://line.example.org/twilio/voice", MultiDict(pairs))
    body = urlencode(pairs).encode()
    headers = {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}
    resp = await gw.client.post("/twilio/voice", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert gw.upstream.seen[-1]["body"] == body  # both values reach intake, in order
    # A signature over only the last value (what collapsing them checks) is not Twilio's.
    collapsed = RequestValidator("test-twilio-token").compute_signature(
        "https://line.example.org/twilio/voice", dict(pairs))
    resp = await gw.client.post("/twilio/voice", content=body,
                                headers={**headers, "X-Twilio-Signature": collapsed})
    assert resp.status_code == 403


async def test_a_twilio_body_over_64_kb_is_refused_before_its_signature_is_checked(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The API's own limit (1 MB) stays; Twilio never sends more than a few KB.
    async with gateway_harness(database_url, tmp_path, max_body_bytes=1_000_000) as gw:
        state = gw.gateway.state
        assert state is not None
        checked: list[int] = []
        monkeypatch.setattr(state.twilio, "valid", lambda *a, **k: checked.append(1) or False)
        big = {**CALL, "Junk": "x" * 70_000}
        resp = await gw.client.post("/twilio/voice", data=big,
                                    headers=signed("/twilio/voice", big))
        assert resp.status_code == 413
        assert resp.headers["content-type"] == "application/problem+json"
        assert checked == [] and gw.upstream.seen == []


async def test_a_twilio_form_with_too_many_parameters_is_refused_before_its_signature(
    gw: GatewayHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = gw.gateway.state
    assert state is not None
    checked: list[int] = []
    monkeypatch.setattr(state.twilio, "valid", lambda *a, **k: checked.append(1) or False)
    body = "&".join(f"p{i}=" for i in range(1_500)).encode()  # 10 KB, 1,500 parameters
    resp = await gw.client.post("/twilio/sms", content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert resp.status_code == 413
    assert "parameters" in resp.json()["detail"]
    assert checked == [] and gw.upstream.seen == []


async def test_a_large_twilio_body_is_checked_off_the_event_loop(
    gw: GatewayHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    state = gw.gateway.state
    assert state is not None
    threads: list[bool] = []
    original = state.twilio.valid

    def spy(*args: object, **kwargs: object) -> bool:
        threads.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(state.twilio, "valid", spy)
    sms = {"MessageSid": "SM" + "5" * 32, "From": "+447700900123", "To": "+442000000000",
           "Body": "x" * 1_500, "NumMedia": "0"}
    small = await gw.client.post("/twilio/sms", data=sms, headers=signed("/twilio/sms", sms))
    assert small.status_code == 200
    large = {**sms, "MessageSid": "SM" + "6" * 32, "Body": "y" * 40_000}
    resp = await gw.client.post("/twilio/sms", data=large, headers=signed("/twilio/sms", large))
    assert resp.status_code == 200
    assert threads == [True, False], "a small form is checked inline, a large one in a thread"


async def test_an_email_without_the_secret_is_refused_before_its_body_is_read(
    gw: GatewayHarness,
) -> None:
    from tests.gateway.conftest import call_raw

    for auth in ([], [(b"authorization", b"Basic " + b64encode(b"mail:wrong"))]):
        status, headers, _, read = await call_raw(
            gw, "POST", b"/email/inbound", body=b"x" * 1000,
            headers=[(b"content-type", b"multipart/form-data; boundary=b"),
                     (b"content-length", b"19000000"), *auth])
        assert status == 401
        assert headers[b"www-authenticate"] == b'Basic realm="email"'
        assert not read, "the body of an unauthenticated email was read"
    assert gw.upstream.seen == []
