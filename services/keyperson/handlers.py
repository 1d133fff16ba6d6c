"""What the outbox relay runs in this service: its two local timers. Keyperson's messages to
notify and referral need no reply handler or sender of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.kit import Kit
from services.keyperson import roster, waiting
from services.keyperson.deps import Keyperson


def install(kit: Kit, own: Keyperson) -> None:
    """Register the local handlers on the relay: an absence starting (its worker's open
    referrals go to cover) and the waiting referrals tried again (a shift starting, a worker
    added, changed or back)."""

    async def absence_starts(session: AsyncSession, payload: dict[str, Any]) -> None:
        await roster.start_absence_and_reassign(session, str(payload["absence_id"]),
                                                kit.clock.now())

    async def retry_waiting(session: AsyncSession, payload: dict[str, Any]) -> None:
        await waiting.retry_waiting(session, kit.clock.now(), waiting.cursor(payload))

    kit.relay.local_handlers[roster.ABSENCE_STARTS_HANDLER] = absence_starts
    kit.relay.local_handlers[waiting.RETRY_HANDLER] = retry_waiting
