"""The running stack for the board's browser tests."""

from tests.e2e.conftest import stack  # noqa: F401
