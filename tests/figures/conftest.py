"""A stack of its own for each module of the monthly figures: the month's test moves the
test clock on by about a year (to October 2027, across the clock change), which no other
end-to-end test should have to see (an invitation made by the CLI, on the real clock, would
be long expired by it); and a browser per test, so that no test leaves Playwright's event
loop running under the asynchronous tests that follow it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import fresh_pg_database
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def figures_stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp(f"figures-{backend}")
    if backend == "sqlite":
        with running_stack(f"sqlite:///{workdir / 'livewell.db'}", workdir) as s:
            yield s
        return
    with fresh_pg_database() as url, running_stack(url, workdir) as s:
        yield s
