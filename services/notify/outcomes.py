"""How a send to Twilio can end other than with a sid, as the dispatcher acts on it.

Its own module so that `senders` and the SDK's HTTP client (`twilio_http`, loaded on the first
send only) both name these without importing each other.
"""

from __future__ import annotations


class RetryAfter(Exception):
    """Twilio answered 429: wait at least `seconds` before the next request."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__("rate limited by Twilio")
        self.seconds = seconds


class Retry(Exception):
    """Not sent; try again after at least `after` seconds (None: the usual backoff)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Unknown(Exception):
    """The request may have reached Twilio: look it up before sending again."""


class Permanent(Exception):
    """Twilio refuses this recipient for good (`code`, e.g. 21211 invalid, 21610 STOP)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
