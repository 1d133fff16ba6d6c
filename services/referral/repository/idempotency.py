"""The partner API's Idempotency-Key records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import insert_for
from services.referral.models import IdempotentRequest


async def claim_idempotency_key(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a new `Idempotency-Key` unless the organisation used it before; True when stored.

    One `INSERT … ON CONFLICT DO NOTHING`: a concurrent twin waits on the unique key and then
    finds it taken, with no savepoint and no look-up first.
    """
    stmt = (insert_for(session.get_bind().dialect.name, IdempotentRequest).values(**values)
            .on_conflict_do_nothing().returning(IdempotentRequest.key))
    return (await session.execute(stmt)).first() is not None


async def get_idempotent(session: AsyncSession, org: str, key: str) -> IdempotentRequest | None:
    stmt = select(IdempotentRequest).where(IdempotentRequest.org == org,
                                           IdempotentRequest.key == key)
    return (await session.scalars(stmt.execution_options(populate_existing=True))).one_or_none()
