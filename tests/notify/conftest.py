"""Notify under test: the service in-process, the Twilio mock on a port in the same loop, a
gateway stand-in that checks Twilio's signatures, and fake keyperson/referral peers."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN
from services.common.db import Database
from services.common.ids import new_id, new_reference
from services.common.migrations import upgrade
from services.common.settings import Settings
from services.notify import deps
from services.notify.app import create_app
from services.notify.deps import Notify
from services.notify.dispatcher import Dispatcher
from services.notify.models import Handoff, Message, OutboxMessage
from services.notify.settings import NotifyConfig
from tests.conftest import make_settings
from tests.support.service import ServiceHarness, running_service
from tests.support.stack import eventually
from tests.support.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Expectations,
    MockClient,
    expectations_fixture,
    free_port,
    running_twilio_mock,
)

PUBLIC = "https://line.example.org"
OUR_NUMBER = "+442000000000"


def mobile() -> str:
    """A fresh valid UK mobile number, so tests sharing a database never share a worker."""
    return "+447912" + "".join(secrets.choice("0123456789") for _ in range(6))


class GatewayStandIn(httpx.AsyncBaseTransport):
    """What the gateway does for Twilio's requests: check the signature over the public URL,
    then forward `/twilio/status…` to notify; `/twilio/sms` goes to notify's reply check
    as intake would, answering its reply as TwiML."""

    def __init__(self) -> None:
        self.validator = RequestValidator(AUTH_TOKEN)
        self.notify: httpx.AsyncClient | None = None
        self.rejected = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        form = dict(httpx.QueryParams(body.decode()))
        public = PUBLIC + request.url.raw_path.decode()
        if not self.validator.validate(public, form, request.headers.get("x-twilio-signature")):
            self.rejected += 1
            return httpx.Response(403)
        assert self.notify is not None
        if request.url.path == "/twilio/sms":
            resp = await self.notify.post("/internal/replies",
                                          json={"from": form["From"], "body": form["Body"],
                                                "message_sid": form["MessageSid"]})
            reply = resp.json().get("reply")
            twiml = f"<Response><Message>{escape(reply)}</Message></Response>" if reply \
                else "<Response/>"
            return httpx.Response(200, text=twiml, headers={"content-type": "application/xml"})
        resp = await self.notify.post(request.url.path, content=body,
                                      headers={"content-type": request.headers["content-type"],
                                               H_ACTOR_KIND: "twilio"})
        return httpx.Response(resp.status_code, content=resp.content,
                              headers={"content-type": resp.headers.get("content-type", "")})


@dataclass
class Peers:
    """Keyperson and referral as far as notify talks to them: records, and the rota."""

    url: str = ""
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)

    def to(self, fragment: str) -> list[dict[str, Any]]:
        return [body for path, body in self.posts if fragment in path]

    def forget(self) -> None:
        """Start a test with nothing recorded and nobody on the rota."""
        self.posts.clear()
        self.coordinators = []


# The peers, the mock and notify itself are started once per test module (starting them is
# most of a test's cost); the function-scoped `notify` fixture gives each test a clean slate.
@pytest.fixture(scope="module")
async def peers() -> AsyncIterator[Peers]:
    state = Peers()
    app = FastAPI()

    @app.get("/internal/rota/on-duty")
    async def on_duty(role: str) -> dict[str, list[str]]:
        return {"numbers": list(state.coordinators) if role == "duty_coordinator" else []}

    @app.post("/{path:path}")
    async def record(path: str, request: Request) -> Response:
        state.posts.append(("/" + path, await request.json()))
        return Response('{"ok": true}', media_type="application/json")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, interval=0.01, what="the peers to start")
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
def gateway() -> GatewayStandIn:
    return GatewayStandIn()


@dataclass
class KeptAliveMockClient(MockClient):
    """`MockClient` over one kept-alive client: tests read the mock dozens of times, and
    building a new `httpx.AsyncClient` (with its TLS context) costs about 0.1 s each time."""

    http: httpx.AsyncClient | None = None

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        if self.http is None:
            self.http = httpx.AsyncClient(base_url=self.base_url, timeout=30)
        resp = await self.http.request(method, "/_mock" + path, json=json)
        resp.raise_for_status()
        return resp.json()

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()


@pytest.fixture
def twilio(notify_service: NotifyHarness) -> MockClient:
    """The mock notify sends to (started and stopped with notify, so their clocks agree)."""
    return notify_service.twilio


expect = expectations_fixture("twilio")


@dataclass
class NotifyHarness:
    service: ServiceHarness
    twilio: MockClient
    peers: Peers

    @property
    def own(self) -> Notify:
        return deps.of(self.service.kit)

    @property
    def dispatcher(self) -> Dispatcher:
        return self.own.dispatcher

    @property
    def client(self) -> httpx.AsyncClient:
        return self.service.client

    async def advance(self, seconds: float) -> None:
        """Move notify's clock and the mock's, then let everything due run."""
        self.service.kit.clock.advance(seconds)
        await self.twilio.advance(seconds)
        self.service.kit.relay.wake()
        self.dispatcher.wake()
        await self.settle()

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until no message or outbox row is due and the mock has nothing in flight, three
        looks in a row (a row being handled is neither due nor done for a moment)."""
        quiet = 0

        async def quiet_three_times() -> bool:
            nonlocal quiet
            await self.twilio.settle()
            quiet = quiet + 1 if not await self.busy() else 0
            return quiet >= 3

        _: bool = await eventually(quiet_three_times, timeout=timeout, interval=0.03,
                                   what="notify to settle")

    async def busy(self) -> bool:
        kit = self.service.kit
        now = kit.clock.now()
        async with kit.db.sessionmaker() as s:
            due = await s.scalars(select(Message.id).where(
                Message.status.in_(("pending", "unknown", "sending")),
                Message.next_attempt_at <= now).limit(1))
            if due.first():
                return True
            rows = await s.scalars(select(OutboxMessage.id).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None),
                OutboxMessage.next_attempt_at <= now).limit(1))
            return rows.first() is not None

    async def offer(self, phone: str, urgency: str = "urgent", n: int = 1,
                    referral_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """Keyperson offers a referral to the worker at `phone`; the handoff as staff see it."""
        referral_id = referral_id or new_id()
        body = {"handoff_key": f"{referral_id}:{n}", "referral_id": referral_id,
                "reference": new_reference(), "urgency": urgency,
                "respond_by": (self.service.kit.clock.now() + timedelta(hours=4)).isoformat(),
                "keyworker_id": extra.pop("keyworker_id", new_id()), "phone": phone, **extra}
        resp = await self.client.post("/internal/handoffs", json=body)
        assert resp.status_code == 200, resp.text
        return {**body, "handoff_id": resp.json()["handoff_id"]}

    async def handoff(self, handoff_id: str) -> Handoff:
        async with self.service.kit.db.sessionmaker() as s:
            h = await s.get(Handoff, handoff_id)
            assert h is not None
            return h


async def quiesce(db: Database, now: datetime) -> None:
    """Leave nothing due, now or later, for the next test (run when nothing is in flight)."""
    async with db.sessionmaker() as s, s.begin():
        await s.execute(update(Message).where(
            Message.status.in_(("pending", "unknown", "sending"))).values(status="cancelled"))
        await s.execute(update(OutboxMessage).where(OutboxMessage.delivered_at.is_(None),
                                                    OutboxMessage.dead_at.is_(None))
                        .values(dead_at=now))


async def quiesce_stopped(settings: Settings) -> None:
    """`quiesce` with notify not running (before it starts, after it stops)."""
    db = Database(settings, "notify")
    try:
        await quiesce(db, datetime.now(UTC))
    finally:
        await db.dispose()


def notify_config(**overrides: Any) -> NotifyConfig:
    values: dict[str, Any] = {"send_rate_per_second": 200.0, "send_burst": 50,
                              "poll_seconds": 0.05, "twilio_timeout_seconds": 1.0,
                              "send_lease_seconds": 60.0}
    values.update(overrides)
    return NotifyConfig(_env_file=None, **values)


@pytest.fixture(scope="module")
async def notify_service(request: pytest.FixtureRequest, database_url: str,
                         tmp_path_factory: pytest.TempPathFactory, peers: Peers,
                         gateway: GatewayStandIn) -> AsyncIterator[NotifyHarness]:
    """Notify and its Twilio mock running for a whole test module. Another `NotifyConfig` is
    given by parametrizing this fixture indirectly (scope "module"), so pytest stops the
    running notify first: two never share the database at once."""
    config: NotifyConfig = getattr(request, "param", None) or notify_config()
    async with running_twilio_mock(gateway_url="http://gateway.test", public_url=PUBLIC,
                                   transport=gateway) as started:
        twilio = KeptAliveMockClient(started.base_url)
        settings = make_settings(database_url, tmp_path_factory.mktemp("notify"),
                                 twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                                 twilio_api_base_url=twilio.base_url, public_base_url=PUBLIC,
                                 twilio_phone_number=OUR_NUMBER, keyperson_url=peers.url,
                                 referral_url=peers.url)
        upgrade(settings, "notify")
        await quiesce_stopped(settings)  # what an earlier module left due
        async with running_service("notify", lambda s: create_app(s, config), settings) as svc:
            gateway.notify = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app), base_url="http://notify",
                headers={H_INTERNAL_TOKEN: settings.internal_secret})
            try:
                yield NotifyHarness(svc, twilio, peers)
            finally:
                await gateway.notify.aclose()
                await twilio.aclose()
        await quiesce_stopped(settings)


@pytest.fixture
async def notify(notify_service: NotifyHarness) -> AsyncIterator[NotifyHarness]:
    """Notify with a clean slate: nothing recorded by the peers or the mock, nobody on the
    rota; afterwards everything still due (escalation timers, retries) is cancelled."""
    harness = notify_service
    harness.peers.forget()
    await harness.twilio.reset()
    yield harness
    with contextlib.suppress(AssertionError):  # a failed test may leave it unsettled
        await harness.settle()
    await quiesce(harness.service.kit.db, harness.service.kit.clock.now())


__all__ = ["Expectations", "NotifyHarness", "expect", "mobile"]
