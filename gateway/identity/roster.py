"""Is a key worker still on keyperson's roster? Asked when their session is used, so removing
a key worker from the roster ends their desk sessions at once, without keyperson knowing about
accounts. A positive answer is kept a few seconds; keyperson not answering keeps the session
(logged): a key worker mid-call must not be signed out because a service blinked."""

from __future__ import annotations

import logging
import time

from services.common.http import ServiceClient

log = logging.getLogger("gateway.identity")


class Roster:
    def __init__(self, client: ServiceClient | None, ttl: float = 5.0) -> None:
        self._client = client
        self._ttl = ttl
        self._active_until: dict[str, float] = {}

    async def still_active(self, keyworker_id: str) -> bool:
        if self._client is None:
            return True
        now = time.monotonic()
        if self._active_until.get(keyworker_id, 0.0) > now:
            return True
        try:
            resp = await self._client.get("keyperson", f"/internal/keyworkers/{keyworker_id}",
                                          timeout=2.0)
        except Exception as exc:  # not answering is not "removed"
            log.warning("roster check failed", extra={"event": "identity.roster_unavailable",
                                                      "error": type(exc).__name__})
            return True
        if resp.status == 404 or (resp.ok and not resp.body.get("active", True)):
            self._active_until.pop(keyworker_id, None)
            return False
        if resp.ok:
            if len(self._active_until) > 10_000:
                self._active_until.clear()
            self._active_until[keyworker_id] = now + self._ttl
        return True
