"""The dispatcher: claims due messages and sends each exactly once.

A claim marks the row `sending` with a lease (rows are claimed `FOR UPDATE SKIP LOCKED`, so
replicas never take the same one). If the process dies after Twilio accepted the message but
before the sid was committed, the lease runs out, the row is claimed again, and it is first
looked up at Twilio (`find_sent`/`find_call`): found means recorded, not resent.

It shares the outbox relay's queue machinery (`services.common.outbox.DueQueue`: the wake
after a commit, the claim by priority with the oldest share, the lease, the backoff) and is
separate from the relay for the reasons in `docs/notify.md` ("Why the dispatcher is
separate"). It keeps the message row's own state; what a sent or refused message means for
its handoff is the domain's (`on_sent`, `on_refused`, installed by `services.notify.handlers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import Clock
from services.common.db import Database
from services.common.outbox import DueQueue
from services.notify import repository
from services.notify.models import OPEN, Message
from services.notify.outcomes import Permanent, Retry, Unknown
from services.notify.senders import SmsSender, VoiceCaller
from services.notify.settings import NotifyConfig

log = logging.getLogger(__name__)
ONLY_WHILE_OPEN = frozenset({"handoff", "reminder", "handoff_call"})

# Run in the transaction that records the outcome, with the message row locked.
SentHandler = Callable[[AsyncSession, Message, bool], Awaitable[None]]  # bool: reconciled
RefusedHandler = Callable[[AsyncSession, Message, int], Awaitable[None]]  # int: Twilio's code


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed message: what to send, and whether an earlier attempt may have gone out."""

    id: str
    channel: str
    to: str
    body: str
    key: str
    attempts: int
    created_at: datetime
    reconcile: bool


class Pacer:
    """A leaky bucket per sender number and channel (Twilio queues, then refuses, what exceeds
    its rate): `burst` sends at once, then `rate` a second (aiolimiter's AsyncLimiter)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._limiters: dict[str, AsyncLimiter] = {}

    async def wait(self, sender: str) -> None:
        limiter = self._limiters.get(sender)
        if limiter is None:
            limiter = self._limiters[sender] = AsyncLimiter(self.burst, self.burst / self.rate)
        await limiter.acquire()


class Dispatcher(DueQueue):
    """Drains the message table through the SMS sender and the voice caller."""

    def __init__(self, db: Database, clock: Clock, config: NotifyConfig, *, sms: SmsSender,
                 voice: VoiceCaller, from_number: str) -> None:
        super().__init__(db, clock, poll_seconds=config.poll_seconds,
                         lease_seconds=config.send_lease_seconds, batch=config.batch)
        self.sms, self.voice = sms, voice
        self.from_number = from_number
        self.concurrency = config.send_concurrency
        self.pacer = Pacer(config.send_rate_per_second, config.send_burst)
        # What a sent or refused message means for the rest of notify (`handlers.install`).
        self.on_sent: SentHandler | None = None
        self.on_refused: RefusedHandler | None = None
        # A test seam: called after the provider answered, before the outcome is committed.
        self.after_send: Callable[[Claimed, str], Awaitable[None]] | None = None

    async def run_forever(self) -> None:
        while True:
            self.forget_wakes()
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher loop failed", extra={"event": "dispatch.loop_error"})
                done = 0
            if not done:
                await self.wait_for_work()

    async def run_once(self) -> int:
        """Claim what is due and send it; returns how many rows were claimed."""
        if self.on_sent is None or self.on_refused is None:
            raise RuntimeError("the dispatcher's outcome handlers are not installed")
        claimed = await self._claim()
        if claimed:
            # One at a time, Twilio's round trip alone would cap sending at a few a second;
            # the pacer still keeps each sender number within its rate.
            limit = asyncio.Semaphore(self.concurrency)

            async def bounded(item: Claimed) -> None:
                async with limit:
                    await self._process(item)

            await asyncio.gather(*(bounded(item) for item in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        """Unit of work: the claim commits on its own, before anything is sent, so the lease
        is what stops a replica (or this process, restarted) sending the row twice."""
        now = self.clock.now()
        out: list[Claimed] = []
        async with self.db.sessionmaker() as session, session.begin():
            # Emergencies first; a share of each claim for the longest-waiting, so a run of
            # urgent messages never starves routine ones.
            oldest = self.oldest_share(self.batch)
            for msg in await repository.claim_due(session, now, self.batch, oldest):
                if not await self._still_wanted(session, msg):
                    msg.status, msg.updated_at, msg.locked_until = "cancelled", now, None
                    continue
                reconcile = msg.status in (repository.SENDING, repository.UNKNOWN)
                msg.status, msg.updated_at = repository.SENDING, now
                self.take_lease(msg, now)
                out.append(Claimed(msg.id, msg.channel, msg.to, msg.body, msg.dedupe_key,
                                   msg.attempts, msg.created_at, reconcile))
        return out

    async def _still_wanted(self, session: AsyncSession, msg: Message) -> bool:
        if msg.kind not in ONLY_WHILE_OPEN or msg.handoff_id is None:
            return True
        h = await repository.get_handoff(session, msg.handoff_id)
        return h is not None and h.status == OPEN

    async def _process(self, item: Claimed) -> None:
        try:
            sid = await self._reconcile(item) if item.reconcile else None
            if sid is None:
                await self.pacer.wait(self.from_number + item.channel)
                sid = await self._send(item)
            if self.after_send is not None:
                await self.after_send(item, sid)
        except Retry as exc:
            await self._retry(item, str(exc), exc.after, unknown=False)
        except Unknown as exc:
            await self._retry(item, str(exc), None, unknown=True)
        except Permanent as exc:
            await self._refused(item, exc.code, str(exc))
        else:
            await self._sent(item, sid)

    async def _send(self, item: Claimed) -> str:
        if item.channel == "voice":
            return await self.voice.call(item.to, item.body, idempotency_key=item.key)
        return await self.sms.send(item.to, item.body, idempotency_key=item.key)

    async def _reconcile(self, item: Claimed) -> str | None:
        """An earlier attempt may have reached Twilio: find it there before resending."""
        async with self.db.sessionmaker() as session:
            known = await repository.known_sids(session, item.to)
        if item.channel == "voice":
            sid = await self.voice.find_call(item.to, item.created_at, known)
        else:
            sid = await self.sms.find_sent(item.to, item.body, item.created_at, known)
        log.info("reconciled a send of unknown outcome",
                 extra={"event": "dispatch.reconcile", "message_id": item.id,
                        "status": "found" if sid else "not_found"})
        return sid

    async def _sent(self, item: Claimed, sid: str) -> None:
        """Unit of work: Twilio has the message; its sid and what that means for the handoff
        are committed together, apart from any other send of the batch."""
        assert self.on_sent is not None  # checked by run_once
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await repository.lock_message(session, item.id)
            if msg is None:
                return
            msg.provider_sid, msg.status, msg.locked_until = sid, "queued", None
            msg.updated_at, msg.last_error = now, None
            await self.on_sent(session, msg, item.reconcile)
        log.info("message sent", extra={"event": "dispatch.sent", "message_id": item.id,
                                        "channel": item.channel, "attempts": item.attempts})

    async def _retry(self, item: Claimed, error: str, after: float | None,
                     *, unknown: bool) -> None:
        """Unit of work: the next try's time, committed for this message alone. A message is
        never given up: only a permanent refusal ends it (`_refused`)."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await repository.lock_message(session, item.id)
            if msg is None or msg.status != repository.SENDING:
                return
            msg.status = repository.UNKNOWN if unknown else repository.PENDING
            msg.next_attempt_at = self.retry_at(item.attempts, after)
            msg.locked_until, msg.last_error, msg.updated_at = None, error[:300], now
        log.warning("send will be retried", extra={
            "event": "dispatch.retry", "message_id": item.id, "attempts": item.attempts,
            "error": error, "status": "unknown" if unknown else "not_sent"})

    async def _refused(self, item: Claimed, code: int, error: str) -> None:
        """Unit of work: Twilio refuses the recipient for good; the failure and what it means
        for the handoff (another channel, an alert) are committed together."""
        assert self.on_refused is not None  # checked by run_once
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await repository.lock_message(session, item.id)
            if msg is None:
                return
            msg.status, msg.error_code, msg.last_error = "failed", code, error[:300]
            msg.locked_until, msg.updated_at = None, now
            await self.on_refused(session, msg, code)
        log.error("send refused for good", extra={"event": "dispatch.failed",
                                                  "message_id": item.id, "error": str(code)})


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher, background: bool) -> AsyncIterator[Dispatcher]:
    """Run the dispatcher as a task for the life of the service."""
    task = asyncio.create_task(dispatcher.run_forever(), name="notify-dispatcher") \
        if background else None
    try:
        yield dispatcher
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
