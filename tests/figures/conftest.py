"""A stack of its own for each module of the monthly figures: the month's test moves the
test clock on by about a year (to October 2027, across the clock change), which no other
end-to-end test should have to see (an invitation made by the CLI, on the real clock, would
be long expired by it); and a browser per test, so that no test leaves Playwright's event
loop running under the asynchronous tests that follow it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, stack_on


@pytest.fixture(scope="module")
def figures_stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack_on(backend, tmp_path_factory.mktemp(f"figures-{backend}")) as s:
        yield s
