"""Synchronous lookups on the voice path: short timeouts, and a safe answer when they fail."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from services.common.http import ServiceClient

log = logging.getLogger(__name__)
_FAILURES = (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError, OSError, ValueError)


@dataclass(frozen=True)
class KeyWorkerLine:
    keyworker_id: str
    phone: str | None
    on_duty: bool


async def on_duty_numbers(client: ServiceClient, role: str, timeout: float) -> list[str]:
    """Numbers on duty for `role` alone, in dial order; [] when keyperson cannot say in time.

    `fallback=false`: the crisis route steps through the roles itself (crisis workers, then the
    coordinator, then the backup), so each tier must ring only its own role."""
    try:
        resp = await client.get("keyperson",
                                f"/internal/rota/on-duty?role={quote(role)}&fallback=false",
                                timeout=timeout)
    except _FAILURES as exc:
        log.warning("duty rota lookup failed", extra={"event": "lookup.rota_failed",
                                                      "error": type(exc).__name__})
        return []
    numbers = resp.body.get("numbers") if resp.ok and isinstance(resp.body, dict) else None
    if not isinstance(numbers, list):
        log.warning("duty rota lookup refused", extra={"event": "lookup.rota_failed",
                                                       "status": resp.status})
        return []
    return [n for n in numbers if isinstance(n, str) and n.startswith("+")]


async def key_worker(client: ServiceClient, person_id: str, timeout: float) -> KeyWorkerLine | None:
    """The person's key worker, or None when they have none or keyperson cannot say in time."""
    try:
        resp = await client.get("keyperson", f"/internal/people/{quote(person_id)}/key-worker",
                                timeout=timeout)
    except _FAILURES as exc:
        log.warning("key worker lookup failed", extra={"event": "lookup.key_worker_failed",
                                                       "error": type(exc).__name__})
        return None
    body = resp.body
    if not resp.ok or not isinstance(body, dict) or not body.get("keyworker_id"):
        return None
    phone = body.get("phone")
    return KeyWorkerLine(str(body["keyworker_id"]), phone if isinstance(phone, str) else None,
                         bool(body.get("on_duty")))
