"""The dispatcher: claims due messages and sends each exactly once.

A claim marks the row `sending` with a lease (rows are claimed `FOR UPDATE SKIP LOCKED`, so
replicas never take the same one). If the process dies after Twilio accepted the message but
before the sid was committed, the lease runs out, the row is claimed again, and it is first
looked up at Twilio (`find_sent`/`find_call`): found means recorded, not resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import OLDEST_SHARE, backoff_seconds
from services.notify import delivery, handoffs, repository
from services.notify.context import Notify
from services.notify.models import OPEN, Handoff, Message
from services.notify.senders import Permanent, Retry, Unknown

log = logging.getLogger(__name__)
ONLY_WHILE_OPEN = frozenset({"handoff", "reminder", "handoff_call"})


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed message: what to send, and whether an earlier attempt may have gone out."""

    id: str
    channel: str
    to: str
    body: str
    key: str
    attempts: int
    created_at_iso: str
    reconcile: bool


class Pacer:
    """A token bucket per sender number (Twilio queues, then refuses, what exceeds its rate)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    async def wait(self, sender: str) -> None:
        async with self._lock:
            tokens, last = self._state.get(sender, (self.burst, time.monotonic()))
            now = time.monotonic()
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                await asyncio.sleep((1 - tokens) / self.rate)
                now, tokens = time.monotonic(), 1.0
            self._state[sender] = (tokens - 1, now)


class Dispatcher:
    """Drains the message table through the SMS sender and the voice caller."""

    def __init__(self, ctx: Notify) -> None:
        self.ctx = ctx
        self.db = ctx.kit.db
        self.clock = ctx.kit.clock
        self.pacer = Pacer(ctx.config.send_rate_per_second, ctx.config.send_burst)
        self._wake = asyncio.Event()
        self._claims = 0
        # A test seam: called after the provider answered, before the outcome is committed.
        self.after_send: Callable[[Claimed, str], Awaitable[None]] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher loop failed", extra={"event": "dispatch.loop_error"})
                done = 0
            if done:
                continue
            self._wake.clear()
            await self.clock.sleep_unless(self._wake, self.ctx.config.poll_seconds)

    async def run_once(self) -> int:
        """Claim what is due and send it; returns how many rows were claimed."""
        claimed = await self._claim()
        if claimed:
            # One at a time, Twilio's round trip alone would cap sending at a few a second;
            # the pacer still keeps each sender number within its rate.
            limit = asyncio.Semaphore(self.ctx.config.send_concurrency)

            async def bounded(item: Claimed) -> None:
                async with limit:
                    await self._process(item)

            await asyncio.gather(*(bounded(item) for item in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        now = self.clock.now()
        lease = timedelta(seconds=self.ctx.config.send_lease_seconds)
        out: list[Claimed] = []
        batch = self.ctx.config.batch
        async with self.db.sessionmaker() as session, session.begin():
            # Emergencies first; a share of each claim for the longest-waiting, so a run of
            # urgent messages never starves routine ones.
            oldest = batch // OLDEST_SHARE or int(self._claims % OLDEST_SHARE == 0)
            self._claims += 1
            for msg in await repository.claim_due(session, now, batch, oldest):
                if not await self._still_wanted(session, msg):
                    msg.status, msg.updated_at, msg.locked_until = "cancelled", now, None
                    continue
                reconcile = msg.status in (repository.SENDING, repository.UNKNOWN)
                msg.status, msg.locked_until = repository.SENDING, now + lease
                msg.attempts += 1
                msg.updated_at = now
                out.append(Claimed(msg.id, msg.channel, msg.to, msg.body, msg.dedupe_key,
                                   msg.attempts, msg.created_at.isoformat(), reconcile))
        return out

    async def _still_wanted(self, session: AsyncSession, msg: Message) -> bool:
        if msg.kind not in ONLY_WHILE_OPEN or msg.handoff_id is None:
            return True
        h = await session.get(Handoff, msg.handoff_id)
        return h is not None and h.status == OPEN

    async def _process(self, item: Claimed) -> None:
        try:
            sid = await self._reconcile(item) if item.reconcile else None
            if sid is None:
                await self.pacer.wait(self.ctx.kit.settings.twilio_phone_number + item.channel)
                sid = await self._send(item)
            if self.after_send is not None:
                await self.after_send(item, sid)
        except Retry as exc:
            await self._retry(item, str(exc), exc.after, unknown=False)
        except Unknown as exc:
            await self._retry(item, str(exc), None, unknown=True)
        except Permanent as exc:
            await self._failed(item, exc.code, str(exc))
        else:
            await self._sent(item, sid)

    async def _send(self, item: Claimed) -> str:
        if item.channel == "voice":
            return await self.ctx.voice.call(item.to, item.body, idempotency_key=item.key)
        return await self.ctx.sms.send(item.to, item.body, idempotency_key=item.key)

    async def _reconcile(self, item: Claimed) -> str | None:
        """An earlier attempt may have reached Twilio: find it there before resending."""
        from datetime import datetime

        since = datetime.fromisoformat(item.created_at_iso)
        async with self.db.sessionmaker() as session:
            known = await repository.known_sids(session, item.to)
        if item.channel == "voice":
            sid = await self.ctx.voice.find_call(item.to, since, known)
        else:
            sid = await self.ctx.sms.find_sent(item.to, item.body, since, known)
        log.info("reconciled a send of unknown outcome",
                 extra={"event": "dispatch.reconcile", "message_id": item.id,
                        "status": "found" if sid else "not_found"})
        return sid

    async def _sent(self, item: Claimed, sid: str) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await session.get(Message, item.id, with_for_update=True)
            if msg is None:
                return
            msg.provider_sid, msg.status, msg.locked_until = sid, "queued", None
            msg.updated_at, msg.last_error = now, None
            if msg.handoff_id:
                handoffs.note(session, msg.handoff_id, now, "sent", channel=msg.channel,
                              message_id=msg.id, detail="reconciled" if item.reconcile else None)
            await delivery.apply_waiting(session, self.ctx, msg)
        log.info("message sent", extra={"event": "dispatch.sent", "message_id": item.id,
                                        "channel": item.channel, "attempts": item.attempts})

    async def _retry(self, item: Claimed, error: str, after: float | None,
                     *, unknown: bool) -> None:
        delay = backoff_seconds(item.attempts, after)
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await session.get(Message, item.id, with_for_update=True)
            if msg is None or msg.status != repository.SENDING:
                return
            msg.status = repository.UNKNOWN if unknown else repository.PENDING
            msg.next_attempt_at = now + timedelta(seconds=delay)
            msg.locked_until, msg.last_error, msg.updated_at = None, error[:300], now
        log.warning("send will be retried", extra={
            "event": "dispatch.retry", "message_id": item.id, "attempts": item.attempts,
            "error": error, "status": "unknown" if unknown else "not_sent"})

    async def _failed(self, item: Claimed, code: int, error: str) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            msg = await session.get(Message, item.id, with_for_update=True)
            if msg is None:
                return
            msg.status, msg.error_code, msg.last_error = "failed", code, error[:300]
            msg.locked_until, msg.updated_at = None, now
            await handoffs.send_failed(session, self.ctx, msg, code)
        log.error("send refused for good", extra={"event": "dispatch.failed",
                                                  "message_id": item.id, "error": str(code)})


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher, background: bool):  # type: ignore[no-untyped-def]
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
