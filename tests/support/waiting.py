"""Waiting on a condition, never on the clock: poll until something is true, fail with what
was awaited after a generous timeout (a busy machine only makes a test slower, not red)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = ...,
                     interval: float = ..., what: str = ...) -> T: ...
@overload
async def eventually(check: Callable[[], T | None], *, timeout: float = ...,
                     interval: float = ..., what: str = ...) -> T: ...
async def eventually(check: Callable[[], Any], *, timeout: float = 15.0,
                     interval: float = 0.1, what: str = "condition") -> Any:
    """Poll `check` (a coroutine function, or a plain one reading state the event loop
    changes) until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def eventually_sync(check: Callable[[], T | None], *, timeout: float = 15.0,
                    interval: float = 0.1, what: str = "condition") -> T:
    """`eventually` for plain functions (fixtures and helpers outside the event loop): call
    `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
