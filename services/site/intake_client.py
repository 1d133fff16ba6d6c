"""How the site hands a contact to intake: a small Protocol, the real client, and nothing else.

Tests swap in a fake with the same `send`; the real one posts to intake's internal API with
the internal token (the site keeps no contact of its own).
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp

from services.common.http import ServiceClient


class IntakeUnavailable(Exception):
    """Intake did not take the message (down, timed out or refused): ask the person to retry
    or to phone, and keep what they wrote in the form."""


class ContactSender(Protocol):
    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Intake's answer: `reference`, `crisis`, `urgency`, `held`, …"""
        ...


class IntakeContacts:
    """`POST /internal/web-contacts` on intake."""

    def __init__(self, client: ServiceClient, timeout: float = 8.0) -> None:
        self._client = client
        self._timeout = timeout

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = await self._client.post("intake", "/internal/web-contacts", payload,
                                           idempotency_key=payload["token"],
                                           timeout=self._timeout)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise IntakeUnavailable(type(exc).__name__) from exc
        if not resp.ok or not isinstance(resp.body, dict):
            raise IntakeUnavailable(f"http {resp.status}")
        return resp.body
