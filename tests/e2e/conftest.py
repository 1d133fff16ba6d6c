"""End-to-end fixtures: one running system per database backend for each test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, stack_on


@pytest.fixture(scope="module")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real processes on SQLite or on the real PostgreSQL, each with a database of its own,
    for one module: what a module leaves behind (key workers on the roster, referrals waiting
    for one, which keyperson offers to any worker added later) never reaches another."""
    with stack_on(backend, tmp_path_factory.mktemp(f"stack-{backend}")) as s:
        yield s
