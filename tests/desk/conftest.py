"""The desk's tests reuse the services' in-process harnesses (their fixtures, imported)."""

from tests.notify.conftest import (  # noqa: F401
    expect,
    gateway,
    notify,
    notify_service,
    peers,
    twilio,
)
from tests.referral.conftest import referral  # noqa: F401
