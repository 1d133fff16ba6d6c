"""The Twilio mock for tests: start it (in the test's loop, a thread or a subprocess), read
what it recorded, drive it, and fail a test on any SMS or call nobody expected."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from livewell.twilio_mock import create_mock_app
from tests.support.waiting import eventually, eventually_sync

ACCOUNT_SID = "AC" + "5eed" * 8
AUTH_TOKEN = "mock-auth-token-for-tests"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class MockClient:
    """Reads and drives a running mock over its `/_mock` surface."""

    base_url: str
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            resp = await client.request(method, "/_mock" + path, json=json)
            resp.raise_for_status()
            return resp.json()

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call("GET", "/messages")
        return [m for m in rows if to is None or m["to"] == to]

    async def calls(self, to: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call("GET", "/calls")
        return [c for c in rows if to is None or c["to"] == to]

    async def callbacks(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call("GET", "/callbacks")
        return rows

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def fault(self, **spec: Any) -> None:
        """Inject a fault (see `livewell.twilio_mock.admin.FaultIn`)."""
        await self._call("POST", "/faults", spec)

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def settle(self) -> None:
        """Wait for every callback and call in flight to run as far as it can."""
        await self._call("POST", "/settle")

    async def advance(self, seconds: float) -> None:
        await self._call("POST", "/clock/advance", {"seconds": seconds})

    async def press(self, call_sid: str, digits: str) -> dict[str, Any]:
        out: dict[str, Any] = await self._call("POST", f"/calls/{call_sid}/digits",
                                               {"digits": digits})
        return out

    async def hangup(self, call_sid: str, status: str = "completed") -> None:
        await self._call("POST", f"/calls/{call_sid}/hangup", {"status": status})

    async def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        await self._call("POST", f"/messages/{sid}/status",
                         {"status": status, "error_code": error_code})

    async def inbound_sms(self, from_: str, body: str, to: str | None = None) -> dict[str, Any]:
        """A phone replies: a signed SMS webhook to the gateway's `/twilio/sms`."""
        out: dict[str, Any] = await self._call("POST", "/inbound-sms",
                                               {"from": from_, "body": body, "to": to})
        return out


@asynccontextmanager
async def running_twilio_mock(
    *, gateway_url: str | None = None, public_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None, step_delay: float = 0.01,
) -> AsyncIterator[MockClient]:
    """The mock served on a free port by a task in the current event loop (so a `transport`
    may hand its callbacks to an app running in this loop)."""
    port = free_port()
    app = create_mock_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                          gateway_url=gateway_url, public_url=public_url, transport=transport,
                          step_delay=step_delay)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # the server's own error, if it failed
            raise RuntimeError("the Twilio mock stopped before it started")
        return bool(server.started)

    await eventually(started, timeout=15, interval=0.01, what="the Twilio mock to start")
    try:
        yield MockClient(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task


@contextmanager
def twilio_mock_thread(*, gateway_url: str | None = None,
                       public_url: str | None = None) -> Iterator[MockClient]:
    """The mock in a thread of its own (its own event loop), for synchronous tests."""
    port = free_port()
    app = create_mock_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                          gateway_url=gateway_url, public_url=public_url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="twilio-mock", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the Twilio mock stopped before it started")
        return bool(server.started)

    eventually_sync(started, timeout=10, interval=0.01, what="the Twilio mock to start")
    try:
        yield MockClient(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def twilio_mock_process(*, gateway_url: str | None = None, public_url: str | None = None,
                        number: str = "+442000000000") -> Iterator[MockClient]:
    """The mock as a separate process (`python -m livewell.twilio_mock`)."""
    port = free_port()
    cmd = [sys.executable, "-m", "livewell.twilio_mock", "--port", str(port),
           "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--number", number]
    if gateway_url:
        cmd += ["--gateway-url", gateway_url]
    if public_url:
        cmd += ["--public-url", public_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the Twilio mock exited") from None
            return False

    try:
        try:
            eventually_sync(listening, timeout=15, interval=0.05,
                            what="the Twilio mock to listen")
        except (AssertionError, RuntimeError) as exc:
            if proc.poll() is None:
                proc.kill()
            err = proc.communicate()[1].decode() if proc.stderr else ""
            raise RuntimeError(f"the Twilio mock did not start ({exc}): {err[-500:]}") from None
        yield MockClient(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@dataclass
class Expectations:
    """What a test declares it will send; everything else the mock recorded is a failure."""

    mock: MockClient
    sms: list[tuple[str, re.Pattern[str] | None]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def expect_sms(self, to: str, pattern: str | None = None) -> None:
        """One SMS to `to` (whose body matches `pattern`) is expected."""
        self.sms.append((to, re.compile(pattern) if pattern else None))

    def expect_call(self, to: str) -> None:
        """One call to `to` is expected."""
        self.calls.append(to)

    async def unexpected(self) -> list[str]:
        """Every SMS or call recorded that no expectation accounts for."""
        wanted = list(self.sms)
        surprises: list[str] = []
        for m in await self.mock.messages():
            hit = next((w for w in wanted if w[0] == m["to"]
                        and (w[1] is None or w[1].search(m["body"]))), None)
            if hit is None:
                surprises.append(f"SMS {m['sid']} to {m['to']}")
            else:
                wanted.remove(hit)
        calls = list(self.calls)
        for c in await self.mock.calls():
            if c["to"] in calls:
                calls.remove(c["to"])
            else:
                surprises.append(f"call {c['sid']} to {c['to']}")
        return surprises


def expectations_fixture(mock_fixture: str) -> Callable[..., Any]:
    """A fixture (named as you assign it) that yields `Expectations` for the mock of fixture
    `mock_fixture`, resets it first, and fails the test on any SMS or call nobody expected."""

    @pytest.fixture
    async def _expectations(request: pytest.FixtureRequest) -> AsyncIterator[Expectations]:
        mock: MockClient = request.getfixturevalue(mock_fixture)
        await mock.reset()
        exp = Expectations(mock)
        yield exp
        await mock.settle()
        surprises = await exp.unexpected()
        if surprises:
            pytest.fail("sent but nobody expected it: " + "; ".join(surprises))

    return _expectations
