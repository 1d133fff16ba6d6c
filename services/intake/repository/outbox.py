"""What intake's outbox already holds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import OutboxMessage


async def outbox_key_taken(session: AsyncSession, key: str) -> bool:
    """Whether an outbox row with this idempotency key exists (written or pending here)."""
    await session.flush()
    stmt = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    return (await session.scalar(stmt)) is not None
