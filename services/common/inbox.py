"""The receiving side of at-least-once delivery: apply each idempotency key once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.kit_models import InboxMixin


async def seen(session: AsyncSession, model: type[InboxMixin], key: str) -> InboxMixin | None:
    """The record of an already-applied delivery, or None."""
    return await session.get(model, key)


def remember(
    session: AsyncSession, model: type[InboxMixin], key: str, response: Any, now: datetime
) -> None:
    """Record the key in the same transaction as the effect; a concurrent twin fails on commit."""
    row = model()
    row.idempotency_key, row.response, row.received_at = key, response, now
    session.add(row)
