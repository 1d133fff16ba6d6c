"""JSON logs that carry ids, never personal data or message bodies."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from services.common.context import request_id_var

# Only these `extra=` fields reach the log line: ids, counts and states, never content.
ALLOWED_EXTRA = frozenset(
    {
        "event", "service", "status", "method", "path", "duration_ms", "attempts", "target",
        "outbox_id", "referral_id", "contact_id", "person_id", "keyworker_id", "handoff_id",
        "message_id", "key_id", "org_id", "reference", "error", "channel", "urgency", "pid",
        "step", "call_sid", "message_sid", "rules_version", "count", "port", "url",
    }
)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the request id of the request being served."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            line["request_id"] = rid
        for key, value in record.__dict__.items():
            if key in ALLOWED_EXTRA:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where it was raised, not the message: messages can echo input.
            line["exc_type"] = record.exc_info[0].__name__
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                line["exc_at"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (uvicorn's too) through the JSON formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiohttp.access").disabled = True
    for noisy in ("twilio.http_client", "aiosqlite", "sqlalchemy.engine", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
