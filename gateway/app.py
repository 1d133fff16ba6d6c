"""The gateway: the only public entry. Authenticates, limits, adds a request id, forwards.

The proxy path is plain ASGI (no routing framework on the hot path); the gateway's own
routes (health, readiness, metrics, docs) are a small FastAPI app behind it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway import spool
from gateway.breaker import Breaker
from gateway.config import GatewaySettings
from gateway.failsafe import failsafe_twiml, sms_holding_twiml
from gateway.identity.gate import Identity
from gateway.keys import KeyStore
from gateway.models import KIT_MODELS
from gateway.openapi import OpenApiCache
from gateway.ops import router as ops_router
from gateway.proxy import Forwarder, Principal, Upstream
from gateway.ratelimit import RateLimits
from gateway.routes import Route, match
from gateway.signatures import TwilioSignature, basic_auth_password, same_secret
from services.common.app import stop_tasks
from services.common.clock import Clock
from services.common.context import request_id_var
from services.common.db import Database
from services.common.errors import PROBLEM_BASE, PROBLEM_JSON, install_error_handlers
from services.common.http import ServiceClient
from services.common.logs import configure_logging
from services.common.metrics import HTTP_LATENCY, HTTP_REQUESTS
from services.common.outbox import OutboxRelay
from services.common.settings import SERVICES, Settings

log = logging.getLogger("gateway")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TWIML = b"text/xml; charset=utf-8"


@dataclass
class GatewayState:
    settings: Settings
    config: GatewaySettings
    db: Database
    keys: KeyStore
    forwarder: Forwarder
    client: ServiceClient
    limits: RateLimits
    twilio: TwilioSignature
    openapi: OpenApiCache
    relay: OutboxRelay
    clock: Clock
    breakers: dict[str, Breaker]


class _TooLarge(Exception):
    pass


def _problem(status: int, slug: str, title: str, detail: str) -> bytes:
    return json.dumps({"type": PROBLEM_BASE + slug, "title": title, "status": status,
                       "detail": detail}).encode()


class Gateway:
    """ASGI entry point: public routes are forwarded, everything else goes to the ops app."""

    def __init__(self, settings: Settings, config: GatewaySettings) -> None:
        self.settings = settings
        self.config = config
        self.state: GatewayState | None = None
        self.ops = FastAPI(title="Living Well Line gateway", lifespan=self._lifespan,
                           docs_url=None, redoc_url=None, openapi_url=None)
        install_error_handlers(self.ops)
        self.ops.include_router(ops_router)
        self.identity = Identity(settings)

    @asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", self.settings.log_level)
        db = Database(self.settings, "gateway")
        client = ServiceClient(self.settings)
        await client.start()
        forwarder = Forwarder(self.settings)
        await forwarder.start()
        clock = Clock()
        relay = OutboxRelay(db, KIT_MODELS.outbox, client, clock,
                            poll_seconds=max(self.settings.relay_poll_seconds, 0.5))
        relay.senders["spool"] = spool.replayer(forwarder)
        cfg = self.config
        self.state = GatewayState(
            settings=self.settings, config=cfg, db=db,
            keys=KeyStore(db.sessionmaker, cfg.key_cache_seconds), forwarder=forwarder,
            client=client,
            limits=RateLimits(self.settings.redis_url, cfg.rate_limit_key,
                              cfg.rate_limit_anonymous, cfg.rate_limit_webhook),
            twilio=TwilioSignature(self.settings.twilio_signing_token,
                                   self.settings.public_base_url),
            openapi=OpenApiCache(client), relay=relay, clock=clock,
            breakers={name: Breaker() for name in SERVICES},
        )
        app.state.gateway = self.state
        self.identity.start(db, clock, self.state.limits.storage)
        tasks = [asyncio.create_task(relay.run_forever(), name="spool-relay"),
                 asyncio.create_task(relay.keep_tidy(
                     KIT_MODELS.inbox, timedelta(days=self.settings.outbox_retention_days)),
                     name="spool-purge")]
        log.info("gateway started", extra={"event": "service.start",
                                           "port": self.settings.gateway_port})
        try:
            yield
        finally:
            relay.stop()
            await stop_tasks(tasks)
            await forwarder.close()
            await client.close()
            await db.dispose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.ops(scope, receive, send)
            return
        # The sign-in pages are the gateway's own; the rest of /desk/ needs a session.
        own_page = Identity.serves(scope["path"])
        route = None if own_page else match(scope["path"])
        raw_rid = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = raw_rid if _RID.match(raw_rid) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_box = [500]

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if own_page:
                await self.identity.app(scope, receive, tracked)
            elif route is None:
                await self.ops(scope, receive, tracked)
            else:
                await self._handle(route, scope, receive, tracked, rid)
        finally:
            label = route.prefix if route else "gateway"
            HTTP_REQUESTS.labels("gateway", scope["method"], label, status_box[0]).inc()
            HTTP_LATENCY.labels("gateway", label).observe(time.perf_counter() - started)
            request_id_var.reset(token)

    async def _handle(self, route: Route, scope: Scope, receive: Receive, send: Send,
                      rid: str) -> None:
        state = self.state
        assert state is not None
        headers = dict(scope["headers"])
        limit = (self.config.max_email_bytes if route.auth == "email"
                 else self.config.max_body_bytes)
        try:
            body = await _read_body(receive, headers, limit)
        except _TooLarge:
            await _send(send, 413, PROBLEM_JSON.encode(),
                        _problem(413, "payload-too-large", "Payload too large",
                                 f"The body must be at most {limit} bytes."))
            return
        path, query = scope["path"], scope["query_string"].decode("latin-1")
        content_type = headers.get(b"content-type", b"").decode("latin-1")

        if route.auth == "session":
            principal = await self.identity.authenticate(scope["method"], path, headers, body,
                                                         content_type, send)
        else:
            principal = await self._authenticate(route, path, query, headers, body,
                                                 content_type, send)
        if principal is None:
            return
        if not await self._within_limits(route, path, principal, scope, send):
            return

        voice = route.prefix == "/twilio/voice"
        timeout = (self.config.voice_timeout_seconds if voice else
                   self.config.webhook_timeout_seconds if route.auth != "key" else
                   self.config.api_timeout_seconds)
        fwd_headers = state.forwarder.headers_for(scope["headers"], principal, rid)
        upstream: Upstream | None = None
        failure = ""
        breaker = state.breakers[route.service]
        if not breaker.allow():
            failure = "circuit open"
        else:
            try:
                upstream = await state.forwarder.forward(route, scope["method"], path, query,
                                                         fwd_headers, body, timeout)
            except Exception as exc:  # connection refused, reset, timeout: all "not answered"
                failure = type(exc).__name__
            if upstream is not None and upstream.status < 500:
                breaker.succeeded()
                if upstream.unrecorded and route.auth != "key":
                    # Answered, but the service could not record it: keep it for replay.
                    await spool.keep(state, route, path, query, content_type, body, principal)
                await _send_upstream(send, upstream)
                return
            if upstream is None or upstream.status in (502, 503, 504):
                breaker.failed()  # not answering; a 500 is a fault of one request, not of all
        failure = failure or f"http {upstream.status if upstream else '?'}"
        log.error("service did not answer", extra={"event": "gateway.upstream_failed",
                                                   "target": route.service, "path": route.prefix,
                                                   "error": failure})
        await self._fallback(route, scope, path, query, content_type, body, principal, send,
                             upstream)

    async def _authenticate(self, route: Route, path: str, query: str,
                            headers: dict[bytes, bytes], body: bytes, content_type: str,
                            send: Send) -> Principal | None:
        state = self.state
        assert state is not None
        if route.auth == "twilio":
            sig = headers.get(b"x-twilio-signature", b"").decode("latin-1") or None
            if state.twilio.valid(path, query, body, content_type, sig):
                return Principal(kind="twilio")
            log.warning("webhook signature rejected", extra={"event": "gateway.bad_signature",
                                                            "path": route.prefix})
            await _send(send, 403, PROBLEM_JSON.encode(),
                        _problem(403, "bad-signature", "Forbidden",
                                 "Missing or invalid X-Twilio-Signature."))
            return None
        if route.auth == "email":
            password = basic_auth_password(headers.get(b"authorization", b"").decode("latin-1"))
            if same_secret(password, self.settings.email_secret):
                return Principal(kind="email")
            await _send(send, 401, PROBLEM_JSON.encode(),
                        _problem(401, "unauthorized", "Unauthorized",
                                 "The inbound mail webhook needs HTTP basic auth."),
                        [(b"www-authenticate", b'Basic realm="email"')])
            return None
        auth = headers.get(b"authorization", b"").decode("latin-1")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        info = await state.keys.verify(key) if key else None
        if info is None:
            await _send(send, 401, PROBLEM_JSON.encode(),
                        _problem(401, "unauthorized", "Unauthorized",
                                 "Send a valid key: Authorization: Bearer <key>."),
                        [(b"www-authenticate", b"Bearer")])
            return None
        return Principal(kind="key", key_id=info.id, org=info.org, role=info.role)

    async def _within_limits(self, route: Route, path: str, principal: Principal, scope: Scope,
                             send: Send) -> bool:
        state = self.state
        assert state is not None
        if route.prefix == "/twilio/voice":
            return True  # a call for help is never refused by a rate limit
        if principal.key_id:
            item, ident = state.limits.per_key, ("key", principal.key_id)
        else:
            item, ident = state.limits.webhook, ("webhook", route.prefix)
        if await state.limits.allow(item, *ident):
            return True
        retry = await state.limits.retry_after(item, *ident)
        await _send(send, 429, PROBLEM_JSON.encode(),
                    _problem(429, "too-many-requests", "Too many requests",
                             f"Rate limit {item} exceeded; retry in {retry} s."),
                    [(b"retry-after", str(retry).encode())])
        return False

    async def _fallback(self, route: Route, scope: Scope, path: str, query: str,
                        content_type: str, body: bytes, principal: Principal, send: Send,
                        upstream: Upstream | None) -> None:
        """What to answer when the service did not: never silence on a call, never a lost
        message (webhooks are spooled and replayed), an honest 502/504 to an API client."""
        state = self.state
        assert state is not None
        if route.auth == "session":
            await self.identity.unavailable(send)
            return
        if route.auth == "key":
            status = 504 if upstream is None else 502
            await _send(send, status, PROBLEM_JSON.encode(),
                        _problem(status, "unavailable", "Service unavailable",
                                 "The service behind this path did not answer; retry shortly."),
                        [(b"retry-after", b"2")])
            return
        spooled = await spool.keep(state, route, path, query, content_type, body, principal)
        if route.prefix == "/twilio/voice":
            twiml = failsafe_twiml(self.settings.crisis_line_number).encode()
            await _send(send, 200, TWIML, twiml)
        elif not spooled:
            await _send(send, 503, PROBLEM_JSON.encode(),
                        _problem(503, "unavailable", "Service unavailable",
                                 "Not accepted; please retry."), [(b"retry-after", b"5")])
        elif route.prefix == "/twilio/sms":
            await _send(send, 200, TWIML, sms_holding_twiml().encode())
        else:
            await _send(send, 202, b"application/json", b'{"status":"accepted"}')


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, status: int, content_type: bytes, body: bytes,
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_upstream(send: Send, upstream: Upstream) -> None:
    headers = [*upstream.headers, (b"content-length", str(len(upstream.body)).encode())]
    await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
    await send({"type": "http.response.body", "body": upstream.body})


def create_app(settings: Settings | None = None,
               config: GatewaySettings | None = None) -> Gateway:
    """The gateway ASGI app."""
    return Gateway(settings or Settings(), config or GatewaySettings())
