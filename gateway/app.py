"""The gateway: the only public entry. Authenticates, limits, adds a request id, forwards.

The proxy path is plain ASGI (no routing framework on the hot path); the gateway's own
routes (health, readiness, metrics, docs) are a small FastAPI app behind it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway import admission, spool
from gateway.breaker import Breaker
from gateway.config import GatewaySettings
from gateway.failsafe import failsafe_twiml, sms_holding_twiml
from gateway.identity.pages import create_identity
from gateway.keys import KeyStore
from gateway.metrics import ServiceMetrics
from gateway.models import KIT_MODELS
from gateway.openapi import OpenApiCache
from gateway.ops import SOURCE
from gateway.ops import router as ops_router
from gateway.proxy import Forwarder, Principal, Upstream
from gateway.ratelimit import RateLimits, public_form, source_address, trusted_networks
from gateway.reports import router as reports_router
from gateway.responses import (
    TWIML,
    TooLarge,
    read_body,
    send_body,
    send_problem,
    send_upstream,
)
from gateway.routes import Route, match
from gateway.signatures import TwilioSignature
from gateway.state import GatewayState
from gateway.targets import REASON, raw_path, refused
from services.common.app import stop_tasks
from services.common.clock import Clock
from services.common.context import request_id_var
from services.common.db import Database
from services.common.errors import install_error_handlers
from services.common.fhir_errors import fhir_errors, is_fhir_path
from services.common.http import ServiceClient
from services.common.logs import configure_logging
from services.common.metrics import HTTP_LATENCY, HTTP_REQUESTS
from services.common.outbox import OutboxRelay
from services.common.settings import SERVICES, Settings

log = logging.getLogger("gateway")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Probes poll these; they are neither refused nor counted by the per-address limit.
PROBES = frozenset({"/healthz", "/readyz"})
# When the website does not answer, a person still gets the numbers that matter.
SITE_UNAVAILABLE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Living Well Line'
    b'</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    b"<body><main><h1>Sorry, this website is not working right now</h1>"
    b'<p>Call or text the Living Well Line at any time: <a href="tel:{line}">{line}</a>.</p>'
    b'<p>In danger now: call <a href="tel:999">999</a>. Urgent mental health help: call '
    b'<a href="tel:111">NHS 111</a> and choose option 2. Samaritans: '
    b'<a href="tel:116123">116 123</a>. Text SHOUT to 85258.</p></main></body></html>')

# The website's answer when an address is over a public limit (many people can share one).
SITE_BUSY = SITE_UNAVAILABLE.replace(
    b"Sorry, this website is not working right now",
    b"Sorry, there have been too many requests from your connection. Try again in a minute")


class Gateway:
    """ASGI entry point: public routes are forwarded, everything else goes to the ops app."""

    def __init__(self, settings: Settings, config: GatewaySettings) -> None:
        self.settings = settings
        self.config = config
        self.state: GatewayState | None = None
        self.trusted = trusted_networks(config.trusted_proxies)
        # No slash redirects: their Location would be built from what the client sent.
        self.ops = FastAPI(title="Living Well Line gateway", lifespan=self._lifespan,
                           docs_url=None, redoc_url=None, openapi_url=None,
                           redirect_slashes=False)
        install_error_handlers(self.ops)
        self.ops.include_router(ops_router)
        self.ops.include_router(reports_router)
        self.identity = create_identity(settings)

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
                            poll_seconds=max(self.settings.relay_poll_seconds, 0.5),
                            max_failures=self.settings.outbox_max_failures)
        relay.senders["spool"] = spool.replayer(forwarder)
        cfg = self.config
        self.state = GatewayState(
            settings=self.settings, config=cfg, db=db,
            keys=KeyStore(db.sessionmaker, cfg.key_cache_seconds), forwarder=forwarder,
            client=client,
            limits=RateLimits(self.settings.redis_url, cfg.rate_limit_key,
                              cfg.rate_limit_anonymous, cfg.rate_limit_webhook,
                              cfg.rate_limit_public_pages, cfg.rate_limit_public_forms),
            twilio=TwilioSignature(self.settings.twilio_signing_token,
                                   self.settings.public_base_url),
            openapi=OpenApiCache(client),
            metrics=ServiceMetrics(client, cfg.metrics_cache_seconds), relay=relay, clock=clock,
            breakers={name: Breaker() for name in SERVICES}, identity=self.identity,
        )
        app.state.gateway = self.state  # read back, checked, by gateway.state.state_of
        self.identity.start(db, clock, self.state.limits.storage, client)
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
        raw_rid = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = raw_rid if _RID.match(raw_rid) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_box = [500]
        route: Route | None = None

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        address = source_address(scope, self.trusted)
        scope[SOURCE] = address
        try:
            if refused(scope):
                # Before authentication: the target alone is hostile, whoever sends it.
                await admission.charge(self.state, address)
                await send_problem(tracked, 400, "bad-request-target", "Bad request target",
                                   REASON, field="path")
                return
            # Vetted: visible ASCII, and nothing in it that decoding could restructure.
            path = raw_path(scope).decode("ascii")
            route = match(path)
            if self.identity.serves(path):  # sign-in pages: the gateway answers them itself
                route = None
                await self.identity.app(scope, receive, tracked)
            elif route is None:
                await self._page(path, scope, receive, tracked, address, status_box)
            else:
                # A FHIR client reads OperationOutcomes, the gateway's own 401/413/429/502 too.
                out = fhir_errors(tracked) if is_fhir_path(path) else tracked
                await self._handle(route, path, scope, receive, out, rid, address)
        finally:
            label = route.prefix if route else "gateway"
            HTTP_REQUESTS.labels("gateway", scope["method"], label, status_box[0]).inc()
            HTTP_LATENCY.labels("gateway", label).observe(time.perf_counter() - started)
            request_id_var.reset(token)

    async def _page(self, path: str, scope: Scope, receive: Receive, send: Send, address: str,
                    status_box: list[int]) -> None:
        """The gateway's own pages; refusals of them count against the address (probes
        excepted), and an address over its limit gets nothing but the probes."""
        if path in PROBES:
            await self.ops(scope, receive, send)
            return
        if await admission.refuse_blocked(self.state, address, send):
            return
        await self.ops(scope, receive, send)
        if status_box[0] >= 400:
            await admission.charge(self.state, address)

    async def _handle(self, route: Route, path: str, scope: Scope, receive: Receive, send: Send,
                      rid: str, address: str) -> None:
        state = self.state
        assert state is not None
        headers = dict(scope["headers"])
        query = scope["query_string"].decode("ascii")
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if route.auth == "twilio":
            # The signature covers the body, so it is read first, but never more than a
            # Twilio form can be, and a correct signature is honoured from any address:
            # behind a proxy many callers share one, and a call for help is never refused.
            body = await admission.twilio_body(state, receive, headers, content_type, send,
                                                address)
            if body is None:
                return
            principal = await admission.twilio(state, route, path, query, headers, body,
                                               content_type, send, address)
        elif route.auth == "session":
            # The session is a cookie, but its CSRF token is in the form: both are needed.
            try:
                body = await read_body(receive, headers, self.config.max_body_bytes)
            except TooLarge:
                await send_problem(send, 413, "payload-too-large", "Payload too large",
                                   f"The body must be at most {self.config.max_body_bytes} "
                                   "bytes.")
                return
            principal = await self.identity.authenticate(scope["method"], path, headers, body,
                                                         content_type, send)
        else:
            # Credentials are in the headers: checked before a byte of the body is read. The
            # website needs none and has its own per-address limit: someone else's failed
            # logins from a shared address (a library, a phone network) never hide it.
            if route.auth != "public" and await admission.refuse_blocked(state, address, send):
                return
            principal = await admission.credentials(state, route, headers, send, address)
            body = b""
            if principal is not None:
                limit = (self.config.max_email_bytes if route.auth == "email"
                         else self.config.max_body_bytes)
                try:
                    body = await read_body(receive, headers, limit)
                except TooLarge:
                    await send_problem(send, 413, "payload-too-large", "Payload too large",
                                       f"The body must be at most {limit} bytes.")
                    return
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
                await send_upstream(send, upstream)
                return
            if upstream is None or upstream.status in (502, 503, 504):
                breaker.failed()  # not answering; a 500 is a fault of one request, not of all
        failure = failure or f"http {upstream.status if upstream else '?'}"
        log.error("service did not answer", extra={"event": "gateway.upstream_failed",
                                                   "target": route.service, "path": route.prefix,
                                                   "error": failure})
        await self._fallback(route, scope, path, query, content_type, body, principal, send,
                             upstream)

    async def _within_limits(self, route: Route, path: str, principal: Principal, scope: Scope,
                             send: Send) -> bool:
        state = self.state
        assert state is not None
        if route.prefix == "/twilio/voice":
            return True  # a call for help is never refused by a rate limit
        if principal.key_id:
            item, ident = state.limits.per_key, ("key", principal.key_id)
        elif route.auth == "public" and not public_form(route, scope["method"]):
            # A page view: counted in this process, no store round trip (ratelimit.LocalWindow).
            pages, address = state.limits.public_pages, str(scope.get(SOURCE, ""))
            if pages.allow(address):
                return True
            await self._too_many(route, send, pages.item, pages.retry_after(address))
            return False
        elif route.auth == "public":  # a form sent to us, per source address, shared store
            item, ident = state.limits.public_forms, ("public", str(scope.get(SOURCE, "")))
        else:
            item, ident = state.limits.webhook, ("webhook", route.prefix)
        if await state.limits.allow(item, *ident):
            return True
        await self._too_many(route, send, item, await state.limits.retry_after(item, *ident))
        return False

    async def _too_many(self, route: Route, send: Send, item: object, retry: int) -> None:
        """429 with `Retry-After`. A person on the website gets a page with the numbers, as
        when the site is down: a shared address over its limit must not leave someone in
        crisis with a JSON error and no way to reach help."""
        extra = [(b"retry-after", str(retry).encode())]
        if route.service == "site":
            await send_body(send, 429, b"text/html; charset=utf-8", SITE_BUSY.replace(
                b"{line}", self.settings.twilio_phone_number.encode()),
                [*extra, (b"cache-control", b"no-store")])
            return
        await send_problem(send, 429, "too-many-requests", "Too many requests",
                           f"Rate limit {item} exceeded; retry in {retry} s.", extra=extra)

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
        if route.auth == "public" and route.service != "site":
            # The open directory is read by other councils' systems: JSON, as its answers are.
            await send_problem(send, 503, "unavailable", "Service unavailable",
                               "The directory did not answer; retry shortly.",
                               extra=[(b"retry-after", b"5"), (b"cache-control", b"no-store")])
            return
        if route.auth == "public":  # the website is never spooled; a page with the numbers
            await send_body(send, 503, b"text/html; charset=utf-8", SITE_UNAVAILABLE.replace(
                b"{line}", self.settings.twilio_phone_number.encode()),
                [(b"retry-after", b"5"), (b"cache-control", b"no-store")])
            return
        if route.auth == "key":
            status = 504 if upstream is None else 502
            await send_problem(send, status, "unavailable", "Service unavailable",
                               "The service behind this path did not answer; retry shortly.",
                               extra=[(b"retry-after", b"2")])
            return
        spooled = await spool.keep(state, route, path, query, content_type, body, principal)
        if route.prefix == "/twilio/voice":
            twiml = failsafe_twiml(self.settings.crisis_line_number).encode()
            await send_body(send, 200, TWIML, twiml)
        elif not spooled:
            await send_problem(send, 503, "unavailable", "Service unavailable",
                               "Not accepted; please retry.", extra=[(b"retry-after", b"5")])
        elif route.prefix == "/twilio/sms":
            await send_body(send, 200, TWIML, sms_holding_twiml().encode())
        else:
            await send_body(send, 202, b"application/json", b'{"status":"accepted"}')


def create_app(settings: Settings | None = None,
               config: GatewaySettings | None = None) -> Gateway:
    """The gateway ASGI app."""
    return Gateway(settings or Settings(), config or GatewaySettings())
