"""End-to-end fixtures: one running system per database backend for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import fresh_pg_database
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real processes on SQLite or on the real PostgreSQL, each with a database of its own."""
    workdir = tmp_path_factory.mktemp(f"stack-{backend}")
    if backend == "sqlite":
        with running_stack(f"sqlite:///{workdir / 'livewell.db'}", workdir) as s:
            yield s
        return
    with fresh_pg_database() as url, running_stack(url, workdir) as s:
        yield s
