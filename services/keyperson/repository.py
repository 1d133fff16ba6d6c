"""Every query of the keyperson service."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson.models import KeyWorker


async def get_keyworker(session: AsyncSession, keyworker_id: str) -> KeyWorker | None:
    return await session.get(KeyWorker, keyworker_id)


async def list_keyworkers(session: AsyncSession, *, active_only: bool = False) -> Sequence[KeyWorker]:
    stmt = select(KeyWorker).order_by(KeyWorker.name, KeyWorker.id)
    if active_only:
        stmt = stmt.where(KeyWorker.active.is_(True))
    return (await session.scalars(stmt)).all()


def add(session: AsyncSession, worker: KeyWorker) -> None:
    session.add(worker)
