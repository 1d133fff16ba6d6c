"""Vendors behind small Protocols: `SmsSender` and `VoiceCaller`, for Twilio and a dry run.

Each send ends in one of four ways the dispatcher acts on: a provider sid (accepted), `Retry`
(certainly not sent: try again later), `Unknown` (perhaps sent: reconcile before resending)
or `Permanent` (Twilio refuses this number: switch channel and tell a human); the last three
are in `services.notify.outcomes`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException

from services.notify.outcomes import Permanent, Retry, RetryAfter, Unknown

if TYPE_CHECKING:
    from twilio.rest import Client

# Twilio codes that no retry will cure for this recipient.
PERMANENT_CODES = frozenset({21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612,
                             21614, 30003, 30004, 30005, 30006, 30007, 13224, 13225})
RECONCILE_SKEW = timedelta(seconds=60)


class SmsSender(Protocol):
    async def send(self, to: str, body: str, *, idempotency_key: str) -> str:
        """Send one SMS; the provider's sid."""
        ...

    async def find_sent(self, to: str, body: str, since: datetime,
                        exclude: set[str]) -> str | None:
        """The sid of an SMS with this body already sent to `to` since `since`, if any."""
        ...

    async def close(self) -> None: ...


class VoiceCaller(Protocol):
    async def call(self, to: str, twiml: str, *, idempotency_key: str) -> str:
        """Place one call that runs `twiml`; the provider's sid."""
        ...

    async def find_call(self, to: str, since: datetime, exclude: set[str]) -> str | None:
        """The sid of a call to `to` placed since `since` that we have no record of."""
        ...

    async def close(self) -> None: ...


def classify(exc: BaseException) -> Exception:
    """Turn what the SDK or the network raised into Retry, Unknown or Permanent."""
    if isinstance(exc, RetryAfter):
        return Retry("twilio 429", exc.seconds)
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if exc.code is not None else exc.status
        if exc.status == 400 and code in PERMANENT_CODES:
            return Permanent(code, f"twilio {code}")
        if exc.status >= 500:
            return Unknown(f"twilio http {exc.status}")
        return Retry(f"twilio http {exc.status} code {code}")  # our side: credentials, config
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Retry("twilio unreachable")  # the request never left
    if isinstance(exc, TimeoutError | aiohttp.ClientError | TwilioException):
        return Unknown(type(exc).__name__)
    return Unknown(type(exc).__name__)


class TwilioSender:
    """SMS and calls through the twilio SDK, aimed at `TWILIO_API_BASE_URL`."""

    def __init__(self, *, account_sid: str, auth_token: str, base_url: str, from_number: str,
                 status_callback: str, timeout: float) -> None:
        self._client_args = (account_sid, auth_token, base_url, timeout)
        self._client: Client | None = None
        self.from_number = from_number
        self.status_callback = status_callback

    @property
    def client(self) -> Client:
        """The SDK's client, built on first use: the SDK's REST client (and `requests` under
        it) holds about 7 MB that a notify process which has sent nothing yet does not need."""
        if self._client is None:
            # Imported here, not at the top: the SDK's REST client is ~7 MB at idle.
            from services.notify.twilio_http import twilio_client

            self._client = twilio_client(*self._client_args)
        return self._client

    async def send(self, to: str, body: str, *, idempotency_key: str) -> str:
        try:
            msg = await self.client.messages.create_async(
                to=to, from_=self.from_number, body=body, status_callback=self.status_callback)
        except (TwilioException, RetryAfter, aiohttp.ClientError, TimeoutError) as exc:
            raise classify(exc) from exc
        return str(msg.sid)

    async def call(self, to: str, twiml: str, *, idempotency_key: str) -> str:
        try:
            call = await self.client.calls.create_async(
                to=to, from_=self.from_number, twiml=twiml, status_callback=self.status_callback,
                status_callback_event=["completed"], timeout=30)
        except (TwilioException, RetryAfter, aiohttp.ClientError, TimeoutError) as exc:
            raise classify(exc) from exc
        return str(call.sid)

    async def find_sent(self, to: str, body: str, since: datetime,
                        exclude: set[str]) -> str | None:
        try:
            found = await self.client.messages.list_async(to=to, from_=self.from_number,
                                                          limit=50)
        except (TwilioException, RetryAfter, aiohttp.ClientError, TimeoutError) as exc:
            raise Retry(f"reconcile: {type(exc).__name__}") from exc
        for m in found:
            created = m.date_created
            if (m.body == body and m.sid not in exclude
                    and (created is None or created >= since - RECONCILE_SKEW)):
                return str(m.sid)
        return None

    async def find_call(self, to: str, since: datetime, exclude: set[str]) -> str | None:
        try:
            found = await self.client.calls.list_async(to=to, from_=self.from_number, limit=20)
        except (TwilioException, RetryAfter, aiohttp.ClientError, TimeoutError) as exc:
            raise Retry(f"reconcile: {type(exc).__name__}") from exc
        for c in found:
            created = c.date_created
            if c.sid not in exclude and (created is None or created >= since - RECONCILE_SKEW):
                return str(c.sid)
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()


class DryRunSender:
    """No credentials: record what would be sent, one JSON line each, in `var/`."""

    def __init__(self, path: Path, from_number: str) -> None:
        self.path = path
        self.from_number = from_number
        self._lock = asyncio.Lock()

    async def _record(self, row: dict[str, Any]) -> str:
        sid = row["sid"]
        async with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
        return str(sid)

    def _rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    async def send(self, to: str, body: str, *, idempotency_key: str) -> str:
        return await self._record({"sid": "SM" + secrets.token_hex(16), "channel": "sms",
                                   "to": to, "from": self.from_number, "body": body,
                                   "key": idempotency_key, "at": datetime.now(UTC).isoformat()})

    async def call(self, to: str, twiml: str, *, idempotency_key: str) -> str:
        return await self._record({"sid": "CA" + secrets.token_hex(16), "channel": "voice",
                                   "to": to, "from": self.from_number, "twiml": twiml,
                                   "key": idempotency_key, "at": datetime.now(UTC).isoformat()})

    async def find_sent(self, to: str, body: str, since: datetime,
                        exclude: set[str]) -> str | None:
        for row in self._rows():
            if row.get("channel") == "sms" and row["to"] == to and row["body"] == body \
                    and row["sid"] not in exclude:
                return str(row["sid"])
        return None

    async def find_call(self, to: str, since: datetime, exclude: set[str]) -> str | None:
        for row in self._rows():
            if row.get("channel") == "voice" and row["to"] == to and row["sid"] not in exclude \
                    and datetime.fromisoformat(row["at"]) >= since - RECONCILE_SKEW:
                return str(row["sid"])
        return None

    async def close(self) -> None:
        return None
