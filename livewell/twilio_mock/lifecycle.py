"""The mock's side of Twilio's webhooks: signed status callbacks, voice calls that run TwiML.

Every request the mock makes is signed with `RequestValidator(auth_token)` over the public
URL it was given (as Twilio signs the URL it calls); a URL under `public_url` is delivered to
`gateway_url` instead, as a proxy in front of the gateway would.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urljoin

import httpx
from twilio.request_validator import RequestValidator

from livewell.twilio_mock.state import API_VERSION, MockState, new_sid

log = logging.getLogger(__name__)


class Webhooks:
    """Signs and delivers the mock's requests to the application."""

    def __init__(self, state: MockState, *, gateway_url: str | None, public_url: str | None,
                 transport: httpx.AsyncBaseTransport | None = None, step_delay: float = 0.02
                 ) -> None:
        self.state = state
        self.gateway_url = gateway_url.rstrip("/") if gateway_url else None
        self.public_url = (public_url or gateway_url or "").rstrip("/") or None
        self.validator = RequestValidator(state.auth_token)
        self.client = httpx.AsyncClient(transport=transport, timeout=10.0)
        self.step_delay = step_delay
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Any) -> None:
        """Run a lifecycle in the background, keeping a reference until it ends."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.client.aclose()

    def _target(self, url: str) -> str:
        if self.public_url and self.gateway_url and url.startswith(self.public_url):
            return self.gateway_url + url[len(self.public_url):]
        return url

    async def post(self, url: str, params: dict[str, str], kind: str) -> httpx.Response | None:
        """POST a signed form to `url`; record the attempt; None when nothing answered."""
        signature = self.validator.compute_signature(url, params)
        record: dict[str, Any] = {"kind": kind, "url": url, "params": params, "status": None}
        self.state.callbacks.append(record)
        try:
            resp = await self.client.post(self._target(url), data=params,
                                          headers={"X-Twilio-Signature": signature})
        except httpx.HTTPError as exc:
            record["error"] = type(exc).__name__
            log.warning("mock webhook not delivered: %s %s", kind, type(exc).__name__)
            return None
        record["status"] = resp.status_code
        return resp

    # ---- messages -------------------------------------------------------------------------

    async def message_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """Move a message to `status` and tell its StatusCallback, as Twilio does."""
        m = self.state.messages[sid]
        m["status"], m["updated"] = status, self.state.now()
        if status == "sent":
            m["sent"] = m["updated"]
        if error_code is not None:
            m["error_code"], m["error_message"] = error_code, f"Error {error_code}"
        if not m["status_callback"]:
            return
        params = {"AccountSid": self.state.account_sid, "ApiVersion": API_VERSION,
                  "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "From": m["from"], "To": m["to"]}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        await self.post(m["status_callback"], params, "message-status")

    async def message_lifecycle(self, sid: str, delivery: str | None,
                                error_code: int | None) -> None:
        """queued → sent → delivered (or the injected undelivered/failed with its ErrorCode)."""
        await asyncio.sleep(self.step_delay)
        if delivery == "failed":
            await self.message_status(sid, "failed", error_code or 30008)
            return
        await self.message_status(sid, "sent")
        await asyncio.sleep(self.step_delay)
        if delivery == "undelivered":
            await self.message_status(sid, "undelivered", error_code or 30003)
        else:
            await self.message_status(sid, "delivered")

    # ---- calls ----------------------------------------------------------------------------

    def _call_params(self, sid: str, **extra: str) -> dict[str, str]:
        c = self.state.calls[sid]
        return {"AccountSid": self.state.account_sid, "ApiVersion": API_VERSION, "CallSid": sid,
                "CallStatus": c["status"], "Direction": "outbound-api", "From": c["from"],
                "To": c["to"], "Called": c["to"], "Caller": c["from"], **extra}

    async def call_status(self, sid: str, status: str) -> None:
        """Move a call to `status`; a final status is reported to its StatusCallback."""
        c = self.state.calls[sid]
        now = self.state.now()
        c["status"], c["updated"] = status, now
        if status == "in-progress":
            c["started"] = now
        final = status in ("completed", "busy", "failed", "no-answer", "canceled")
        if final:
            c["ended"] = now if c["started"] else None
        if c["status_callback"] and (final or status in c["events"]):
            extra = {"CallDuration": "0"} if final else {}
            await self.post(c["status_callback"], self._call_params(sid, **extra), "call-status")

    async def call_lifecycle(self, sid: str, answer: bool) -> None:
        """Ring, then answer and run the TwiML (fetched from Url when given), or no answer."""
        c = self.state.calls[sid]
        await asyncio.sleep(self.step_delay)
        await self.call_status(sid, "ringing")
        await asyncio.sleep(self.step_delay)
        if not answer:
            await self.call_status(sid, "no-answer")
            return
        await self.call_status(sid, "in-progress")
        twiml = c["twiml"]
        if c["url"]:
            resp = await self.post(c["url"], self._call_params(sid), "call-twiml")
            twiml = resp.text if resp is not None and resp.status_code == 200 else None
            c["base_url"] = c["url"]
        await self.run_twiml(sid, twiml)

    async def run_twiml(self, sid: str, twiml: str | None) -> None:
        """Record what the call says; wait for digits at a Gather, else hang up."""
        c = self.state.calls[sid]
        c["documents"].append(twiml)
        if twiml is None:
            await self.call_status(sid, "failed")
            return
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            await self.call_status(sid, "failed")
            return
        c["says"].extend(el.text or "" for el in root.iter("Say"))
        gather = root.find("Gather")
        if gather is not None:
            action = gather.get("action") or c.get("base_url") or ""
            c["gather"] = {"action": urljoin(c.get("base_url") or "", action),
                           "num_digits": gather.get("numDigits")}
            return
        c["gather"] = None
        await self.call_status(sid, "completed")

    async def press(self, sid: str, digits: str) -> str | None:
        """The person on the call presses `digits`: POST them to the Gather's action."""
        c = self.state.calls[sid]
        gather = c.get("gather")
        if not gather:
            raise LookupError("this call is not waiting for digits")
        c["digits"].append(digits)
        c["gather"] = None
        resp = await self.post(gather["action"], self._call_params(sid, Digits=digits),
                               "call-gather")
        twiml = resp.text if resp is not None and resp.status_code == 200 else None
        c["base_url"] = gather["action"]
        await self.run_twiml(sid, twiml)
        return twiml

    async def inbound_sms(self, from_: str, to: str, body: str) -> httpx.Response | None:
        """A phone sends `body` to `to`: the signed webhook Twilio would send to /twilio/sms."""
        if not self.public_url:
            raise LookupError("the mock was started without --gateway-url")
        sid = new_sid("SM")
        params = {"AccountSid": self.state.account_sid, "ApiVersion": API_VERSION,
                  "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "From": from_,
                  "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received"}
        self.state.inbound.append({"sid": sid, "from": from_, "to": to, "body": body})
        return await self.post(self.public_url + "/twilio/sms", params, "inbound-sms")
