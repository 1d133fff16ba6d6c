"""The desk's tests reuse the services' in-process harnesses and the end-to-end stack (their
fixtures, imported)."""

from tests.e2e.conftest import stack  # noqa: F401
from tests.notify.conftest import (  # noqa: F401
    expect,
    gateway,
    notify,
    notify_service,
    peers,
    twilio,
)
from tests.referral.conftest import referral  # noqa: F401
