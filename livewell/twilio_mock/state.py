"""What the mock remembers: messages, calls, callbacks it made, faults to inject, its clock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A fresh Twilio-shaped sid: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(at: datetime | None) -> str | None:
    """Twilio's date format, e.g. `Thu, 24 Aug 2023 05:01:45 +0000`."""
    return at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") if at else None


def segments(body: str) -> int:
    """SMS segments: 160/153 GSM-7 characters, 70/67 when anything needs UCS-2."""
    gsm = all(ord(c) < 128 for c in body)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


@dataclass
class Fault:
    """An injected failure: answer `status`/`code` (after `delay` seconds) `times` times."""

    resource: str = "any"  # "messages", "calls" or "any"
    to: str | None = None
    status: int = 500
    code: int = 20500
    message: str = "Internal Server Error"
    retry_after: float | None = None
    delay: float = 0.0
    times: int | None = 1
    after_create: bool = False  # create the resource, then fail the answer (outcome unknown)
    delivery: str | None = None  # "undelivered" or "failed": the lifecycle ends there
    error_code: int | None = None
    answer: bool = True  # calls: False means the phone is never picked up

    def matches(self, resource: str, to: str) -> bool:
        return self.resource in ("any", resource) and self.to in (None, to)

    @property
    def stage(self) -> str:
        """When it strikes: "before" creating, "after" creating, or in the "delivery"."""
        if self.delivery is not None or not self.answer:
            return "delivery"
        return "after" if self.after_create else "before"


@dataclass
class MockState:
    """Everything a test or developer may inspect; reset between tests."""

    account_sid: str
    auth_token: str
    default_to: str = "+442000000000"
    offset: timedelta = timedelta(0)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    inbound: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: int = 0

    def now(self) -> datetime:
        """The mock's time: the wall clock plus what tests advanced it by."""
        return datetime.now(UTC) + self.offset

    def reset(self) -> None:
        """Forget everything recorded and every fault (credentials stay)."""
        self.messages.clear()
        self.calls.clear()
        self.callbacks.clear()
        self.inbound.clear()
        self.faults.clear()
        self.requests = 0

    def take_fault(self, resource: str, to: str, stage: str) -> Fault | None:
        """The first fault matching this request at this stage, counted as used once."""
        for fault in self.faults:
            if fault.stage == stage and fault.matches(resource, to):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def message_json(self, sid: str) -> dict[str, Any]:
        """A Message resource exactly as Twilio shapes it."""
        m = self.messages[sid]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": m["body"],
            "date_created": rfc2822(m["created"]), "date_sent": rfc2822(m["sent"]),
            "date_updated": rfc2822(m["updated"]), "direction": "outbound-api",
            "error_code": m["error_code"], "error_message": m["error_message"],
            "from": m["from"], "messaging_service_sid": m["messaging_service_sid"],
            "num_media": "0", "num_segments": str(segments(m["body"])), "price": None,
            "price_unit": "USD", "sid": sid, "status": m["status"], "to": m["to"],
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "uri": f"{uri}.json",
        }

    def call_json(self, sid: str) -> dict[str, Any]:
        """A Call resource exactly as Twilio shapes it."""
        c = self.calls[sid]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        duration = (str(int((c["ended"] - c["started"]).total_seconds()))
                    if c["ended"] and c["started"] else None)
        return {
            "sid": sid, "date_created": rfc2822(c["created"]),
            "date_updated": rfc2822(c["updated"]), "parent_call_sid": None,
            "account_sid": self.account_sid, "to": c["to"], "to_formatted": c["to"],
            "from": c["from"], "from_formatted": c["from"], "phone_number_sid": None,
            "status": c["status"], "start_time": rfc2822(c["started"]),
            "end_time": rfc2822(c["ended"]), "duration": duration, "price": None,
            "price_unit": "USD", "direction": "outbound-api", "answered_by": None,
            "api_version": API_VERSION, "forwarded_from": None, "group_sid": None,
            "caller_name": None, "queue_time": "0", "trunk_sid": None, "uri": f"{uri}.json",
            "subresource_uris": {"recordings": f"{uri}/Recordings.json",
                                 "notifications": f"{uri}/Notifications.json"},
        }
