"""How the site reads referral's open directory: a small Protocol and the real reader.

Tests swap in a reader with the same `get`; the real one asks referral over the internal
network (the site keeps nothing a reader searched for).
"""

from __future__ import annotations

from typing import Any, Protocol

from services.common.http import ServiceClient
from services.common.settings import Settings


class DirectoryReader(Protocol):
    async def get(self, path: str) -> tuple[int, Any]:
        """(status, JSON body) of a GET on referral's open directory."""
        ...


class ReferralDirectory:
    """Referral's `/openreferral/…` over the internal network, one short-lived client a page."""

    def __init__(self, settings: Settings, timeout: float = 5.0) -> None:
        self._settings = settings
        self._timeout = timeout

    async def get(self, path: str) -> tuple[int, Any]:
        client = ServiceClient(self._settings)
        await client.start()
        try:
            resp = await client.get("referral", path, timeout=self._timeout)
            return resp.status, resp.body
        finally:
            await client.close()
