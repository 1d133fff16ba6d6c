"""Rows for a benchmark's database, written straight through each service's models (far faster
than through the APIs), then ANALYZE so PostgreSQL plans as it would on a lived-in database."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import insert

from services.common.db import Database
from services.common.settings import ServiceName, Settings

BATCH = 2000


async def insert_rows(database_url: str,
                      data: dict[ServiceName, dict[Any, list[dict[str, Any]]]]) -> None:
    """Insert `data` ({service: {model: rows}}) in batches, one transaction per service."""
    settings = Settings(_env_file=None, database_url=database_url,
                        internal_token="unused")
    for service, tables in data.items():
        db = Database(settings, service)
        try:
            async with db.sessionmaker() as session, session.begin():
                for model, found in tables.items():
                    for start in range(0, len(found), BATCH):
                        await session.execute(insert(model), found[start:start + BATCH])
        finally:
            await db.dispose()
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1),
                         autocommit=True) as conn:
        conn.execute("ANALYZE")
