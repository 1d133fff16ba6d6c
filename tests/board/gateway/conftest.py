"""The gateway in-process in front of a recording stand-in for the services (its own tests'
harness, imported)."""

from tests.gateway.conftest import gw  # noqa: F401
