"""Closed loop to the referrer: signed webhook deliveries of status changes, through the outbox.

Each delivery is an outbox row with target `webhook` and the partner's absolute URL as its path;
the relay hands it to the sender registered here, which signs the exact body it sends:
`X-Livewell-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.

Partners choose the URL, so it is checked twice (`services.common.netguard`): at registration
for what it plainly names, and at each delivery for what its host resolves to, connecting only
to the addresses that passed. A refused delivery is a dead letter, never retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import ip_address
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from sqlalchemy.event import listen
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from services.common.clock import Clock
from services.common.errors import NotFound
from services.common.http import ServiceResponse
from services.common.ids import new_id
from services.common.kit_models import OutboxMixin
from services.common.netguard import AddressRefused, why_not_public, why_not_public_host
from services.common.outbox import enqueue
from services.referral import repository
from services.referral.models import OutboxMessage, Referral, Webhook

log = logging.getLogger(__name__)

TARGET = "webhook"
H_SIGNATURE = "X-Livewell-Signature"
H_TIMESTAMP = "X-Livewell-Timestamp"
H_DELIVERY = "X-Livewell-Delivery"

# How long the organisations with a webhook are trusted before they are read again.
HOOKED_TTL_SECONDS = 5.0


def new_secret() -> str:
    """The signing secret a partner keeps to check deliveries."""
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook URL cannot be used, or None: https, a public host, no credentials.

    A first filter: a name that looks public is only known to be public once resolved, which
    each delivery does (`GuardedResolver`)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return "the webhook URL is not a URL"
    if parts.scheme != "https" or not host:
        return "the webhook URL must be an https:// URL"
    if parts.username or parts.password:
        return "the webhook URL must not carry credentials"
    why = why_not_public_host(host, allow_loopback=allow_loopback)
    if why:  # never point deliveries at this network's own machines
        return f"the webhook URL must name a public host ({why})"
    return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for one delivery."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class Announcer:
    """Queues the deliveries of a status change to the referring organisation's webhooks.

    It keeps which organisations have a webhook at all, re-read every `ttl` seconds: most have
    none, and every status change of every referral would otherwise ask the database. A webhook
    registered through another replica receives changes from at most this long after it was
    registered; one registered or removed here is seen at once (`forget_on_commit`)."""

    def __init__(self, ttl: float = HOOKED_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._hooked: tuple[float, frozenset[str]] | None = None

    async def _orgs_with_webhooks(self, session: AsyncSession) -> frozenset[str]:
        cached = self._hooked
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        read_at = time.monotonic()
        orgs = await repository.orgs_with_webhooks(session)
        self._hooked = (read_at, orgs)
        return orgs

    def forget_on_commit(self, session: AsyncSession) -> None:
        """Read the organisations afresh once `session` commits (a webhook added or removed):
        forgetting before the commit could let a concurrent change re-read the old list."""
        listen(session.sync_session, "after_commit", self._forget, once=True)

    def _forget(self, _session: Session) -> None:
        self._hooked = None

    async def announce(self, session: AsyncSession, referral: Referral, event: str,
                       at: datetime, now: datetime) -> None:
        """Queue one delivery of this status change to each webhook of the referring
        organisation."""
        if referral.org is None or referral.org not in await self._orgs_with_webhooks(session):
            return
        for hook in await repository.active_webhooks(session, referral.org):
            delivery = {
                "type": "referral.status_changed",
                "referral_id": referral.id,
                "reference": referral.reference,
                "external_reference": referral.external_reference,
                "event": event,
                "status": referral.status,
                "outcome": referral.outcome,
                "respond_by": referral.respond_by.isoformat(),
                "at": at.isoformat(),
            }
            key = f"webhook:{hook.id}:{referral.id}:{event}:{at.isoformat()}"
            enqueue(session, OutboxMessage, key=key[:200], target=TARGET, path=hook.url,
                    payload={"webhook_id": hook.id, "delivery": delivery}, now=now)


def register(session: AsyncSession, announcer: Announcer, *, org: str, url: str,
             now: datetime) -> Webhook:
    """A new webhook of `org` (its URL already checked), told to the announcer on commit."""
    hook = Webhook(id=new_id(), org=org, url=url, secret=new_secret(), active=True,
                   created_at=now)
    session.add(hook)
    announcer.forget_on_commit(session)
    return hook


async def own_webhook(session: AsyncSession, org: str, webhook_id: str) -> Webhook:
    """An active webhook of `org`; anyone else's is indistinguishable from none."""
    hook = await repository.get_webhook(session, webhook_id)
    if hook is None or hook.org != org or not hook.active:
        raise NotFound("webhook")
    return hook


def remove(session: AsyncSession, announcer: Announcer, hook: Webhook) -> None:
    """Stop sending to `hook` (deliveries still queued for it become dead letters, not
    retries), told to the announcer on commit."""
    hook.active = False
    announcer.forget_on_commit(session)


class WebhookPoster(Protocol):
    """Sends one HTTP POST to a partner; network failures raise, HTTP errors are returned."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> ServiceResponse: ...


class GuardedResolver(AbstractResolver):
    """Resolves a partner's host and refuses the lot if any answer is not a public address;
    aiohttp connects only to the answers returned here, so what was checked is what is called
    (no second lookup a rebinding name could answer differently)."""

    def __init__(self, inner: AbstractResolver | None = None, *,
                 allow_loopback: bool = False) -> None:
        self._inner = inner or DefaultResolver()
        self._allow_loopback = allow_loopback

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            why = why_not_public(ip_address(answer["host"].split("%")[0]),
                                 allow_loopback=self._allow_loopback)
            if why:
                raise AddressRefused(f"{host} resolves to {why}")
        if not answers:
            raise AddressRefused(f"{host} resolves to no address")
        return answers

    async def close(self) -> None:
        await self._inner.close()


REFUSED = 403  # a dead letter at once (see OutboxRelay._deliver): retrying changes nothing


class AiohttpPoster:
    """Real deliveries, over a session of their own: only public addresses, checked at each
    connection (no DNS cache), never the session that calls the sibling services on 127.0.0.1.

    `allow_loopback` is for tests with a receiver on 127.0.0.1 (LIVEWELL_WEBHOOK_ALLOW_LOOPBACK,
    off by default); `resolver`, `ssl` and `socket_factory` let tests stand in for DNS, a
    certificate authority and the network."""

    def __init__(self, *, allow_loopback: bool = False, timeout: float = 10.0,
                 resolver: AbstractResolver | None = None, ssl: Any = True,
                 socket_factory: Any = None) -> None:
        self._allow_loopback = allow_loopback
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._resolver = resolver
        self._ssl = ssl
        self._socket_factory = socket_factory
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._resolver, allow_loopback=self._allow_loopback),
                use_dns_cache=False, ssl=self._ssl, socket_factory=self._socket_factory,
                limit=50)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> ServiceResponse:
        # Again at delivery: a webhook registered before a check was tightened, and address
        # literals, which aiohttp connects to without asking the resolver.
        why = check_url(url, allow_loopback=self._allow_loopback)
        if why:
            return _refused(headers, why)
        try:
            async with self._open().post(url, data=body, headers=headers,
                                         timeout=self._timeout, allow_redirects=False) as resp:
                await resp.read()
                return ServiceResponse(resp.status, None, dict(resp.headers))
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, AddressRefused):
                return _refused(headers, str(exc.os_error))
            raise


def _refused(headers: dict[str, str], why: str) -> ServiceResponse:
    log.warning("webhook delivery refused: not a public address",
                extra={"event": "webhook.refused", "delivery": headers.get(H_DELIVERY),
                       "reason": why})
    return ServiceResponse(REFUSED, why, {})


@dataclass
class RecordingPoster:
    """The fake: records what would have been sent and answers with `status`."""

    status: int = 200
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> ServiceResponse:
        self.sent.append((url, body, headers))
        return ServiceResponse(self.status, None, {})


async def close_poster(poster: WebhookPoster) -> None:
    """Close the delivery session at shutdown (the fakes tests install have nothing to close)."""
    if isinstance(poster, AiohttpPoster):
        await poster.close()


async def deliver(sessionmaker: async_sessionmaker[AsyncSession], poster: WebhookPoster,
                  clock: Clock, row: OutboxMixin) -> ServiceResponse:
    """The relay's delivery of one `webhook` row: look up the secret, sign, post.

    Unit of work: the relay hands a sender the row alone, outside any session, so the webhook
    is read in a short session of its own (a read only, closed before the partner is called)."""
    payload: dict[str, Any] = row.payload
    async with sessionmaker() as session:
        hook = await repository.get_webhook(session, payload["webhook_id"])
    if hook is None or not hook.active:
        return ServiceResponse(410, None, {})  # removed since: a dead letter, not a retry
    body = json.dumps(payload["delivery"], separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(clock.now().timestamp()))
    headers = {"Content-Type": "application/json", H_TIMESTAMP: timestamp,
               H_SIGNATURE: sign(hook.secret, timestamp, body),
               H_DELIVERY: row.idempotency_key, "Idempotency-Key": row.idempotency_key}
    return await poster.post(row.path, body, headers)
