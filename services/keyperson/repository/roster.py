"""The roster's queries: key workers, their locality, team and skill index rows, and the
mobile numbers of active workers (no commits: the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.keyperson.models import KeyWorker, KeyWorkerArea


async def get_keyworker(session: AsyncSession, keyworker_id: str) -> KeyWorker | None:
    return await session.get(KeyWorker, keyworker_id)


async def list_keyworkers(session: AsyncSession, *,
                          active_only: bool = False) -> Sequence[KeyWorker]:
    stmt = select(KeyWorker).order_by(KeyWorker.name, KeyWorker.id)
    if active_only:
        stmt = stmt.where(KeyWorker.active.is_(True))
    return (await session.scalars(stmt)).all()


async def workers_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, KeyWorker]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(KeyWorker).where(KeyWorker.id.in_(wanted))
                                 .execution_options(populate_existing=True))
    return {w.id: w for w in rows}


def add(session: AsyncSession, row: object) -> None:
    session.add(row)


async def remove(session: AsyncSession, row: object) -> None:
    await session.delete(row)


async def set_areas(session: AsyncSession, worker: KeyWorker) -> None:
    """Rewrite the locality, team and skill index rows of one worker."""
    await session.execute(delete(KeyWorkerArea).where(KeyWorkerArea.keyworker_id == worker.id))
    for kind, values in (("locality", worker.localities), ("team", worker.teams),
                         ("skill", worker.skills)):
        session.add_all([KeyWorkerArea(kind=kind, value=v, keyworker_id=worker.id)
                         for v in set(values)])


async def phone_in_use(session: AsyncSession, phone: str, besides: str | None = None) -> bool:
    """Whether another active worker has this mobile (their reply codes would mix)."""
    stmt = select(KeyWorker.id).where(KeyWorker.phone == phone, KeyWorker.active.is_(True))
    if besides is not None:
        stmt = stmt.where(KeyWorker.id != besides)
    return (await session.execute(stmt.limit(1))).first() is not None
