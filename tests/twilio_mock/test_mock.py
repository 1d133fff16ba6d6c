"""The mock answers as Twilio would: the SDK works with it; it refuses what Twilio refuses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from livewell.twilio_mock.spec import response_problems
from services.notify.twilio_http import RetryAfter, twilio_client
from tests.support.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MockClient,
    running_twilio_mock,
    twilio_mock_process,
)

PUBLIC = "https://line.example.org"
WORKER = "+447700900123"
OURS = "+442000000000"


class Receiver:
    """Stands in for the gateway: checks every signature, records the forms, answers TwiML."""

    def __init__(self) -> None:
        self.validator = RequestValidator(AUTH_TOKEN)
        self.seen: list[tuple[str, dict[str, str], bool]] = []
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self.handle, methods=["POST"])

    async def handle(self, path: str, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        url = PUBLIC + "/" + path
        ok = self.validator.validate(url, form, request.headers.get("x-twilio-signature", ""))
        self.seen.append((path, form, ok))
        if path == "twiml":
            return Response('<Response><Gather numDigits="1" action="/press">'
                            "<Say>Press 1 to accept.</Say></Gather></Response>",
                            media_type="text/xml")
        return Response("<Response><Say>Thank you.</Say></Response>", media_type="text/xml")


@pytest.fixture(scope="module")
async def receiver() -> Receiver:
    return Receiver()


@pytest.fixture(scope="module")
async def running_mock(receiver: Receiver) -> AsyncIterator[MockClient]:
    """One mock server for the module (starting a server is most of a test's cost)."""
    async with running_twilio_mock(gateway_url="http://gateway.test", public_url=PUBLIC,
                                   transport=httpx.ASGITransport(app=receiver.app)) as client:
        yield client


@pytest.fixture
async def mock(running_mock: MockClient, receiver: Receiver) -> MockClient:
    """The mock as new: what an earlier test left in flight has run, then everything is
    forgotten, by the mock and by the receiver."""
    await running_mock.settle()
    await running_mock.reset()
    receiver.seen.clear()
    return running_mock


@pytest.fixture
async def sdk(mock: MockClient) -> AsyncIterator[Client]:
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, mock.base_url, timeout=5)
    yield client
    await client.http_client.close()


def _raw(mock: MockClient, auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN)
         ) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=mock.base_url, auth=auth)


async def test_the_sdk_sends_an_sms_and_gets_a_twilio_shaped_message(
    sdk: Client, mock: MockClient, receiver: Receiver,
) -> None:
    msg = await sdk.messages.create_async(to=WORKER, from_=OURS, body="ACCEPT K7M2QX",
                                          status_callback=PUBLIC + "/twilio/status")
    assert re.fullmatch(r"SM[0-9a-f]{32}", msg.sid)
    assert msg.status == "queued"
    fetched = await sdk.messages(msg.sid).fetch_async()
    assert fetched.body == "ACCEPT K7M2QX"
    listed = await sdk.messages.list_async(to=WORKER, limit=10)
    assert [m.sid for m in listed] == [msg.sid]
    async with _raw(mock) as raw:
        body = (await raw.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{msg.sid}.json")
                ).json()
    assert response_problems("api.v2010.account.message", body) == []
    await mock.settle()
    statuses = [f["MessageStatus"] for p, f, ok in receiver.seen if p == "twilio/status"]
    assert statuses == ["sent", "delivered"]
    assert all(ok for _, _, ok in receiver.seen), "every callback is validly signed"
    recorded = await mock.messages()
    assert recorded[0]["status"] == "delivered" and recorded[0]["to"] == WORKER


async def test_a_message_without_to_is_refused_with_twilios_code(mock: MockClient) -> None:
    async with _raw(mock) as raw:
        resp = await raw.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                              data={"From": OURS, "Body": "x"})
    assert resp.status_code == 400
    assert resp.json()["code"] == 21604
    assert set(resp.json()) >= {"code", "message", "status", "more_info"}
    assert await mock.messages() == []


@pytest.mark.parametrize(("form", "code"), [
    ({"To": WORKER, "Body": "x"}, 21603),
    ({"To": WORKER, "From": OURS}, 21602),
    ({"To": "07700 900123", "From": OURS, "Body": "x"}, 21211),
    ({"To": WORKER, "MessagingServiceSid": "MG123", "Body": "x"}, 20001),
    ({"To": WORKER, "From": OURS, "Body": "x", "StatusCallback": "not a url"}, 21205),
])
async def test_what_twilio_would_refuse_is_refused(mock: MockClient, form: dict[str, str],
                                                   code: int) -> None:
    async with _raw(mock) as raw:
        resp = await raw.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=form)
    assert (resp.status_code, resp.json()["code"]) == (400, code)


async def test_a_bad_account_sid_pattern_is_not_found(mock: MockClient) -> None:
    async with _raw(mock) as raw:
        resp = await raw.post("/2010-04-01/Accounts/AC123/Messages.json",
                              data={"To": WORKER, "From": OURS, "Body": "x"})
        assert (resp.status_code, resp.json()["code"]) == (404, 20404)
        bad_sid = await raw.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/XX1.json")
        assert bad_sid.status_code == 404


async def test_no_or_wrong_credentials_is_401_authenticate(mock: MockClient) -> None:
    for auth in (None, (ACCOUNT_SID, "wrong")):
        async with _raw(mock, auth) as raw:
            resp = await raw.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                                  data={"To": WORKER, "From": OURS, "Body": "x"})
        assert (resp.status_code, resp.json()["code"]) == (401, 20003)
    assert await mock.messages() == []


async def test_a_call_fetches_its_twiml_and_digits_reach_the_gather_action(
    sdk: Client, mock: MockClient, receiver: Receiver,
) -> None:
    call = await sdk.calls.create_async(to=WORKER, from_=OURS, url=PUBLIC + "/twiml",
                                        status_callback=PUBLIC + "/twilio/status")
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    await mock.settle()
    [recorded] = await mock.calls()
    assert recorded["status"] == "in-progress"
    assert recorded["says"] == ["Press 1 to accept."]
    assert recorded["gather"]["action"] == PUBLIC + "/press"
    await mock.press(call.sid, "1")
    await mock.settle()
    press = [f for p, f, _ in receiver.seen if p == "press"]
    assert press[0]["Digits"] == "1" and press[0]["CallSid"] == call.sid
    [done] = await mock.calls()
    assert done["status"] == "completed"
    final = [f for p, f, _ in receiver.seen if p == "twilio/status"]
    assert final[-1]["CallStatus"] == "completed"
    assert all(ok for _, _, ok in receiver.seen)


async def test_a_call_without_url_or_twiml_is_refused(mock: MockClient) -> None:
    async with _raw(mock) as raw:
        resp = await raw.post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
                              data={"To": WORKER, "From": OURS})
    assert (resp.status_code, resp.json()["code"]) == (400, 21205)


async def test_injected_429_carries_retry_after_and_500_is_a_rest_error(
    sdk: Client, mock: MockClient,
) -> None:
    await mock.fault(resource="messages", status=429, code=20429, message="Too Many Requests",
                     retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await sdk.messages.create_async(to=WORKER, from_=OURS, body="x")
    assert info.value.seconds == 7
    await mock.fault(resource="messages", status=500)
    with pytest.raises(TwilioRestException) as err:
        await sdk.messages.create_async(to=WORKER, from_=OURS, body="x")
    assert err.value.status == 500
    ok = await sdk.messages.create_async(to=WORKER, from_=OURS, body="x")
    assert ok.status == "queued"
    assert len(await mock.messages()) == 1


async def test_a_stop_fault_answers_21610_for_that_number_only(sdk: Client,
                                                             mock: MockClient) -> None:
    await mock.fault(resource="messages", to=WORKER, status=400, code=21610,
                     message="Attempt to send to unsubscribed recipient", times=None)
    with pytest.raises(TwilioRestException) as err:
        await sdk.messages.create_async(to=WORKER, from_=OURS, body="x")
    assert err.value.code == 21610
    other = await sdk.messages.create_async(to="+447700900999", from_=OURS, body="x")
    assert other.sid.startswith("SM")


async def test_inbound_sms_is_signed_against_the_public_url(mock: MockClient,
                                                            receiver: Receiver) -> None:
    out: dict[str, Any] = await mock.inbound_sms(WORKER, "accept k7m2qx")
    assert out["status"] == 200
    path, form, ok = receiver.seen[-1]
    assert (path, form["From"], form["Body"], ok) == ("twilio/sms", WORKER, "accept k7m2qx", True)
    assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])


def test_the_mock_runs_as_a_process_a_developer_can_start() -> None:
    with twilio_mock_process() as mock:
        resp = httpx.post(f"{mock.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                          data={"To": WORKER, "From": OURS, "Body": "hello"},
                          auth=(ACCOUNT_SID, AUTH_TOKEN))
        assert resp.status_code == 201
        listed = httpx.get(f"{mock.base_url}/_mock/messages").json()
        assert [m["body"] for m in listed] == ["hello"]
