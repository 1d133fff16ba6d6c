"""Transactional outbox: events written with the change, delivered by a relay, at least once.

`enqueue()` adds a row in the caller's transaction. The relay claims due rows (with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never claim the same row), delivers them
with the row's idempotency key, and records the outcome; failures are retried with backoff.
Receivers de-duplicate with the inbox (`services.common.inbox`). A delay turns a row into a
durable timer; `target="local"` runs a handler of this service in its own transaction.

Urgency first: each row has a `priority` (0 emergency … 3 routine, from the payload's
`urgency` unless given), and a claim takes the most urgent due rows first, by due time within
a priority. So routine work is never starved, a quarter of every claim (`OLDEST_SHARE`) goes
to the rows that have waited longest, whatever their priority.

Giving up: a row that fails the same way (same error) `max_failures` times in a row becomes a
dead letter, and the duty coordinators are alerted through notify (`on_dead`). A receiver that
is unreachable, busy (429) or unavailable (503) is not the message's fault: that waits, and
never counts. `livewell deadletters list|replay` shows dead letters and re-queues one.

`DueQueue` is what the relay shares with notify's message dispatcher, the other queue of due
rows (`docs/notify.md` says why it stays separate): woken after a commit that queued work
(`wake_after_commit`), the claim by priority with the oldest share (`claim_by_priority`), the
lease on what is claimed, and the backoff of a retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import aiohttp
from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import Clock
from services.common.db import QUEUED_WORK, Database
from services.common.groupcommit import GroupCommit
from services.common.http import ServiceClient, ServiceResponse
from services.common.kit_models import InboxMixin, OutboxMixin
from services.common.metrics import OUTBOX_DEAD, OUTBOX_DELIVERED, OUTBOX_RETRIED

log = logging.getLogger(__name__)

ReplyHandler = Callable[[AsyncSession, dict[str, Any], Any], Awaitable[None]]
LocalHandler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
Sender = Callable[[OutboxMixin], Awaitable[ServiceResponse]]
DeadHook = Callable[[AsyncSession, OutboxMixin, str], Awaitable[None]]
RETRIABLE_4XX = frozenset({408, 409, 423, 425, 429})
# Answers that say the receiver, not this message, is the trouble: retried without counting.
UNAVAILABLE = frozenset({429, 503})
MAX_BACKOFF = 300.0
DEFAULT_MAX_FAILURES = 8
PRIORITY = {"emergency": 0, "very_urgent": 1, "urgent": 2, "routine": 3}
DEFAULT_PRIORITY = 2  # rows that carry no urgency: after emergencies, before routine work
OLDEST_SHARE = 4  # one row in this many of a claim is the longest-waiting, whatever its priority
DEAD_LETTER_KEY = "dead_letter:"


def priority_for(urgency: object) -> int:
    """The claim priority of an urgency (0 is claimed first)."""
    return PRIORITY.get(urgency, DEFAULT_PRIORITY) if isinstance(urgency, str) \
        else DEFAULT_PRIORITY


def enqueue(
    session: AsyncSession,
    model: type[OutboxMixin],
    *,
    key: str,
    target: str,
    path: str,
    payload: dict[str, Any],
    now: datetime,
    delay: float = 0.0,
    reply_handler: str | None = None,
    priority: int | None = None,
) -> None:
    """Add an event to the outbox in the caller's transaction (nothing is sent before commit).

    `priority` defaults to the one of the payload's `urgency` (`priority_for`)."""
    row = model()
    row.idempotency_key, row.target, row.path, row.payload = key, target, path, payload
    row.reply_handler, row.attempts, row.created_at = reply_handler, 0, now
    row.priority = priority_for(payload.get("urgency")) if priority is None else priority
    row.failures = 0
    row.next_attempt_at = now + timedelta(seconds=delay)
    session.add(row)
    wake_after_commit(session)


def wake_after_commit(session: AsyncSession) -> None:
    """Once this session's transaction commits, wake the queues of its database (the relay,
    notify's dispatcher): what it queued is due now, and would otherwise wait for a poll.
    Nothing is woken if the transaction rolls back."""
    session.info[QUEUED_WORK] = True


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a server's Retry-After wins when it asks for longer."""
    base = min(MAX_BACKOFF, 0.5 * 2 ** max(attempts - 1, 0))
    jittered: float = base * random.uniform(0.8, 1.2)
    return max(jittered, retry_after or 0.0)


class Queued(Protocol):
    """A row of a queue of due work: the columns the claim orders by and the lease sets."""

    id: Any
    priority: int
    next_attempt_at: datetime
    locked_until: datetime | None
    attempts: int


Q = TypeVar("Q", bound=Queued)


async def claim_by_priority(session: AsyncSession, model: type[Q],
                            due: Sequence[ColumnElement[bool]], limit: int,
                            oldest: int) -> list[Q]:
    """Up to `limit` rows meeting `due`, locked (`FOR UPDATE SKIP LOCKED`, so replicas never
    take the same row): the most urgent first, by due time within a priority, and `oldest` of
    them by due time alone, whatever their priority, so an emergency overtakes a surge and
    routine work still moves."""
    columns = sa_inspect(model).columns
    priority, due_at, key = columns["priority"], columns["next_attempt_at"], columns["id"]
    urgent = (select(model).where(*due).order_by(priority, due_at, key)
              .limit(limit - oldest).with_for_update(skip_locked=True))
    rows = list((await session.scalars(urgent)).all()) if limit > oldest else []
    if oldest:
        taken = [row.id for row in rows]
        waited = (select(model).where(*due, key.not_in(taken)).order_by(due_at, key)
                  .limit(oldest).with_for_update(skip_locked=True))
        rows += list((await session.scalars(waited)).all())
    return rows


class DueQueue:
    """A queue of due rows drained by one loop: the outbox relay, and notify's dispatcher.

    Woken after a commit that queued work (`wake_after_commit`), it claims the most urgent
    rows with a share for the longest-waiting, leases each one so a replica (or this process
    after a crash) takes it only when the lease has run out, and retries with backoff."""

    def __init__(self, db: Database, clock: Clock, *, poll_seconds: float,
                 lease_seconds: float, batch: int) -> None:
        self.db = db
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self._claims = 0
        self._wake = asyncio.Event()
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        """Look now rather than at the next poll (called after a commit that queued work)."""
        self._wake.set()

    def forget_wakes(self) -> None:
        """Called before a claim: a commit from now on wakes the next `wait_for_work`, one
        before it is seen by the claim itself."""
        self._wake.clear()

    def oldest_share(self, limit: int) -> int:
        """How many rows of this claim of `limit` go to the longest-waiting (`OLDEST_SHARE`);
        a claim of fewer than `OLDEST_SHARE` rows takes the oldest every `OLDEST_SHARE`th
        time. Counts the claim."""
        self._claims += 1
        return limit // OLDEST_SHARE or int(self._claims % OLDEST_SHARE == 0)

    def take_lease(self, row: Queued, now: datetime) -> None:
        """Claimed: nobody else takes the row until the lease runs out; one more attempt."""
        row.locked_until = now + self.lease
        row.attempts += 1

    def retry_at(self, attempts: int, retry_after: float | None = None) -> datetime:
        """When a row that failed on its `attempts`th try is due again (`backoff_seconds`)."""
        return self.clock.now() + timedelta(seconds=backoff_seconds(attempts, retry_after))

    async def wait_for_work(self, busy: Iterable[asyncio.Future[Any]] = ()) -> None:
        """Until a commit wakes the queue, the clock moves, one of `busy` ends, or the poll."""
        waker = asyncio.ensure_future(self._wake.wait())
        mover = asyncio.ensure_future(self.clock.sleep(3600))
        try:
            await asyncio.wait({waker, mover, *busy}, timeout=self.poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            mover.cancel()


class OutboxRelay(DueQueue):
    """Delivers one service's outbox; runs as a task in the service's lifespan."""

    def __init__(
        self,
        db: Database,
        model: type[OutboxMixin],
        client: ServiceClient,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = 30.0,
        batch: int = 50,
        concurrency: int = 16,
        max_failures: int = DEFAULT_MAX_FAILURES,
    ) -> None:
        super().__init__(db, clock, poll_seconds=poll_seconds, lease_seconds=lease_seconds,
                         batch=batch)
        self.model = model
        self.client = client
        self.concurrency = concurrency
        self.max_failures = max_failures
        # `services.intake.models` → intake; `gateway.models` → gateway.
        self.service = model.__module__.split(".")[-2]
        # Run in the transaction that makes a row a dead letter; notify replaces it with a
        # local alert (it would otherwise post the alert to itself).
        self.on_dead: DeadHook = self._alert_notify
        self.reply_handlers: dict[str, ReplyHandler] = {}
        self.local_handlers: dict[str, LocalHandler] = {}
        self.senders: dict[str, Sender] = {}
        self.last_loop_at: datetime | None = None
        self._stopped = asyncio.Event()
        # Deliveries with nothing to do on the answer are marked together, one UPDATE a batch.
        self._delivered: GroupCommit[int, None] = GroupCommit(
            "outbox.delivered", self._mark_all_delivered)

    def stop(self) -> None:
        """Finish the batch in hand and return from `run_forever` (no transaction is cut)."""
        self._stopped.set()
        self._wake.set()

    async def run_forever(self) -> None:
        """Keep up to `concurrency` deliveries in flight, claiming more as slots free up, so
        one slow receiver never holds back rows that are already due."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopped.is_set():
                self.last_loop_at = self.clock.now()
                free = self.concurrency - len(in_flight)
                if in_flight and free < max(1, self.concurrency // 2):
                    # Claim again once half the slots are free: a claim is a transaction, so
                    # one per finished delivery would cost as much as the deliveries.
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                self.forget_wakes()
                asked = min(free, self.batch)
                try:
                    rows = await self._claim(asked)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay loop failed", extra={"event": "outbox.loop_error"})
                    rows = []
                for row in rows:
                    task = asyncio.create_task(self._deliver_guarded(row))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if len(rows) == asked or self._stopped.is_set():
                    continue  # more may be due already
                await self.wait_for_work(in_flight)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            raise
        finally:
            # A stop finishes the deliveries in hand (no transaction is cut).
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _claim(self, limit: int) -> list[OutboxMixin]:
        """Up to `limit` due rows: most urgent first, and the oldest share by due time alone
        (a claim of fewer than `OLDEST_SHARE` rows takes the oldest every `OLDEST_SHARE`th
        time), so an emergency overtakes a surge and routine work still moves."""
        m = self.model
        now = self.clock.now()
        oldest = self.oldest_share(limit)
        due = (m.delivered_at.is_(None), m.dead_at.is_(None), m.next_attempt_at <= now,
               or_(m.locked_until.is_(None), m.locked_until < now))
        async with self.db.sessionmaker() as session, session.begin():
            rows = await claim_by_priority(session, m, due, limit, oldest)
            for row in rows:
                self.take_lease(row, now)
        return rows

    async def _deliver_guarded(self, row: OutboxMixin) -> None:
        try:
            await self._deliver(row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("outbox delivery failed", extra={"event": "outbox.error",
                                                           "outbox_id": row.id})
            await self._retry(row, type(exc).__name__, None, counts=True)

    async def _deliver(self, row: OutboxMixin) -> None:
        if row.target == "local":
            handler = self.local_handlers[row.path]
            async with self.db.sessionmaker() as session, session.begin():
                if await self._mark_delivered(session, row):
                    await handler(session, row.payload)
            OUTBOX_DELIVERED.labels(row.target).inc()
            return
        try:
            sender = self.senders.get(row.target, self._send_internal)
            resp = await sender(row)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self._retry(row, type(exc).__name__, None, counts=False)
            return
        if resp.ok and not row.reply_handler:
            await self._delivered.submit(row.id)
            OUTBOX_DELIVERED.labels(row.target).inc()
        elif resp.ok:
            async with self.db.sessionmaker() as session, session.begin():
                if await self._mark_delivered(session, row) and row.reply_handler:
                    await self.reply_handlers[row.reply_handler](session, row.payload, resp.body)
            OUTBOX_DELIVERED.labels(row.target).inc()
        elif resp.status >= 500 or resp.status in RETRIABLE_4XX:
            await self._retry(row, f"http {resp.status}", _retry_after(resp),
                              counts=resp.status not in UNAVAILABLE)
        else:
            await self._dead(row, f"http {resp.status}")

    async def _send_internal(self, row: OutboxMixin) -> ServiceResponse:
        return await self.client.post(row.target, row.path, row.payload,  # type: ignore[arg-type]
                                      idempotency_key=row.idempotency_key)

    async def _mark_delivered(self, session: AsyncSession, row: OutboxMixin) -> bool:
        m = self.model
        result = await session.execute(
            update(m).where(m.id == row.id, m.delivered_at.is_(None))
            .values(delivered_at=self.clock.now(), locked_until=None, last_error=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _mark_all_delivered(self, ids: Sequence[int]) -> list[None]:
        m = self.model
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                update(m).where(m.id.in_(ids), m.delivered_at.is_(None))
                .values(delivered_at=self.clock.now(), locked_until=None, last_error=None))
        return [None] * len(ids)

    async def purge(self, inbox: type[InboxMixin], older_than: timedelta,
                    chunk: int = 1000) -> int:
        """Delete delivered rows and inbox keys older than `older_than`, a chunk per
        transaction so no long lock is held; dead letters stay for people to look at."""
        cutoff = self.clock.now() - older_than
        m, removed = self.model, 0
        for table, stale in ((m, m.delivered_at < cutoff), (inbox, inbox.received_at < cutoff)):
            key = next(iter(sa_inspect(table).primary_key))
            while True:
                async with self.db.sessionmaker() as session, session.begin():
                    ids = select(key).where(stale).limit(chunk).scalar_subquery()
                    result = await session.execute(delete(table).where(key.in_(ids)))
                done = int(result.rowcount)  # type: ignore[attr-defined]
                removed += done
                if done < chunk:
                    break
        return removed

    async def keep_tidy(self, inbox: type[InboxMixin], older_than: timedelta,
                        every_seconds: float = 3600.0) -> None:
        """Purge once an hour for the life of the service."""
        while not self._stopped.is_set():
            try:
                removed = await self.purge(inbox, older_than)
                if removed:
                    log.info("old outbox and inbox rows deleted",
                             extra={"event": "outbox.purged", "count": removed})
            except Exception:
                log.exception("outbox purge failed", extra={"event": "outbox.purge_error"})
            await self.clock.sleep_unless(self._stopped, every_seconds)

    async def _retry(self, row: OutboxMixin, error: str, retry_after: float | None, *,
                     counts: bool) -> None:
        """Try again later; a failure that `counts` and repeats the last one adds to the row's
        run of failures, and at `max_failures` the row is given up as a dead letter."""
        m = self.model
        error = error[:300]
        failures = row.failures or 0
        if counts:
            failures = failures + 1 if row.last_error == error else 1
            if failures >= self.max_failures:
                await self._dead(row, error, failures=failures)
                return
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                update(m).where(m.id == row.id, m.delivered_at.is_(None))
                .values(next_attempt_at=self.retry_at(row.attempts, retry_after),
                        locked_until=None, last_error=error, failures=failures)
            )
        OUTBOX_RETRIED.labels(row.target).inc()
        log.warning("outbox delivery will be retried",
                    extra={"event": "outbox.retry", "outbox_id": row.id, "target": row.target,
                           "attempts": row.attempts, "count": failures, "error": error})

    async def _dead(self, row: OutboxMixin, error: str, *, failures: int | None = None) -> None:
        """Keep the row as a dead letter and, in the same transaction, alert (`on_dead`)."""
        m = self.model
        async with self.db.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(m).where(m.id == row.id, m.delivered_at.is_(None), m.dead_at.is_(None))
                .values(dead_at=self.clock.now(), locked_until=None, last_error=error[:300],
                        failures=failures if failures is not None else row.failures or 0)
            )
            if result.rowcount and not row.idempotency_key.startswith(  # type: ignore[attr-defined]
                    DEAD_LETTER_KEY):  # a dead letter's own alert: logged, never re-alerted
                await self.on_dead(session, row, error)
        OUTBOX_DEAD.labels(row.target).inc()
        log.error("outbox delivery given up; kept as dead letter",
                  extra={"event": "outbox.dead", "outbox_id": row.id, "target": row.target,
                         "attempts": row.attempts, "error": error})

    async def _alert_notify(self, session: AsyncSession, row: OutboxMixin, error: str) -> None:
        """Ask notify, through this outbox, to alert the duty coordinators (ids only)."""
        enqueue(session, self.model, key=dead_letter_key(self.service, row.id), target="notify",
                path="/internal/alerts", now=self.clock.now(), priority=0,
                payload=dead_letter_alert(self.service, row))


def dead_letter_key(service: str, row_id: int) -> str:
    return f"{DEAD_LETTER_KEY}{service}:{row_id}"


def dead_letter_alert(service: str, row: OutboxMixin) -> dict[str, Any]:
    """The alert for a dead letter: which service and row, and the referral's reference and
    urgency when the row names them; nothing else of the payload."""
    payload = row.payload if isinstance(row.payload, dict) else {}
    reference = payload.get("reference")
    urgency = payload.get("urgency")
    return {"alert_key": dead_letter_key(service, row.id), "kind": "dead_letter",
            "reference": reference if isinstance(reference, str) else None,
            "referral_id": payload.get("referral_id") if isinstance(
                payload.get("referral_id"), str) else None,
            "urgency": urgency if urgency in PRIORITY else None}


def _retry_after(resp: ServiceResponse) -> float | None:
    value = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
