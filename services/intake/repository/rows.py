"""Inserting a row unless a unique key is taken, on either backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import insert_for


def insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on either backend: one round trip, no savepoint."""
    stmt = insert_for(session.get_bind().dialect.name, model).values(**values)
    return stmt.on_conflict_do_nothing()


async def inserted(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """Insert unless a unique key is taken; True when this call wrote the row.

    RETURNING rather than rowcount: after waiting on a concurrent writer's conflicting row,
    the driver's rowcount is not reliable, a returned row is.
    """
    pk = next(iter(model.__table__.primary_key.columns))
    stmt = insert_ignore(session, model, values).returning(pk)
    return (await session.execute(stmt)).first() is not None
