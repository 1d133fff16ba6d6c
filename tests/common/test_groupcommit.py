"""Group commit: concurrent writes share a transaction, and each waiter gets its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from services.common.groupcommit import GroupCommit


class Store:
    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: Sequence[str]) -> list[str]:
        await self.gate.wait()
        await asyncio.sleep(0.01)  # a commit's round trip
        if self.fail_on in items:
            raise ConnectionError("database went away")
        self.batches.append(list(items))
        return [item.upper() for item in items]


async def test_concurrent_writes_share_batches_and_each_gets_its_result() -> None:
    store = Store()
    commit = GroupCommit("test", store.write)
    results = await asyncio.gather(*(commit.submit(f"c{i}") for i in range(50)))
    assert results == [f"C{i}" for i in range(50)]
    assert sum(len(b) for b in store.batches) == 50
    assert len(store.batches) < 10  # not one transaction per write


async def test_a_lone_write_is_not_delayed_waiting_for_company() -> None:
    store = Store()
    commit = GroupCommit("test", store.write)
    assert await asyncio.wait_for(commit.submit("alone"), timeout=1) == "ALONE"
    assert store.batches == [["alone"]]


async def test_a_failed_batch_fails_all_its_writes_and_the_next_batch_still_commits() -> None:
    store = Store(fail_on="bad")
    commit = GroupCommit("test", store.write)
    store.gate.clear()
    first = asyncio.ensure_future(commit.submit("bad"))
    await asyncio.sleep(0)  # the writer holds the first batch, the rest queue behind it
    same = [asyncio.ensure_future(commit.submit(f"x{i}")) for i in range(3)]
    store.gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert await asyncio.gather(*same) == ["X0", "X1", "X2"]
    assert store.batches == [["x0", "x1", "x2"]]


async def test_a_batch_is_capped() -> None:
    store = Store()
    commit = GroupCommit("test", store.write, max_batch=8)
    await asyncio.gather(*(commit.submit(f"c{i}") for i in range(30)))
    assert max(len(b) for b in store.batches) <= 8
    assert sorted(i for b in store.batches for i in b) == sorted(f"c{i}" for i in range(30))


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_write() -> None:
    store = Store()
    commit = GroupCommit("test", store.write)
    store.gate.clear()
    quitter = asyncio.ensure_future(commit.submit("quitter"))
    stayer = asyncio.ensure_future(commit.submit("stayer"))
    await asyncio.sleep(0)
    quitter.cancel()
    store.gate.set()
    assert await stayer == "STAYER"
    await commit.close()
    assert ["quitter", "stayer"] in store.batches


async def test_a_writer_returning_the_wrong_count_fails_the_batch() -> None:
    async def short(items: Sequence[str]) -> list[str]:
        return list(items)[1:]

    commit = GroupCommit("test", short)
    with pytest.raises(RuntimeError):
        await asyncio.gather(commit.submit("a"), commit.submit("b"))
