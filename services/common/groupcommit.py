"""Group commit: many concurrent requests share one transaction, each still answered only
after its own write is durable.

A request hands its row to `GroupCommit.submit` and waits. One writer task at a time takes
everything queued, writes it in a single transaction (one BEGIN, a few batched statements, one
COMMIT) and then answers every waiter with its own result. Whatever arrives while a commit is in
flight forms the next batch, so an idle system pays no added latency and a busy one pays one
round trip per batch instead of per request. If the transaction fails, every request of that
batch gets the exception: nothing is acknowledged that was not committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from services.common.metrics import GROUP_COMMIT_BATCH

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
Writer = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    """Batches `submit` calls into `write(items) -> results` (one result per item, in order)."""

    def __init__(self, name: str, write: Writer[T, R], *, max_batch: int = 256) -> None:
        self.name = name
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue `item`, and return its result once the transaction holding it committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name=f"group-commit:{self.name}")
        # Shielded: a caller that gives up (client gone) must not cancel the shared write.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            GROUP_COMMIT_BATCH.labels(self.name).observe(len(batch))
            try:
                results = await self._write([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self.name}: {len(results)} results for "
                                       f"{len(batch)} items")
            except Exception as exc:  # every waiter of this batch learns it failed
                log.warning("group commit failed", extra={"event": "group_commit.failed",
                                                          "step": self.name, "count": len(batch),
                                                          "error": type(exc).__name__})
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Let the batch in flight (and anything queued behind it) finish."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
