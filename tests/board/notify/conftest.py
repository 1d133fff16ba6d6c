"""Notify's in-process harness for the board's notify tests."""

from tests.notify.conftest import (  # noqa: F401
    expect,
    gateway,
    notify,
    notify_service,
    peers,
    twilio,
)
