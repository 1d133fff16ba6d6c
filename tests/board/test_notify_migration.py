"""Notify's Alembic history (with the board's acknowledgement, 0003) builds exactly the
tables its models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from services.common.db import connect_args, service_urls
from services.common.migrations import upgrade
from services.common.settings import Settings
from services.notify.models import Base


def test_notify_migrations_match_the_models(settings: Settings) -> None:
    upgrade(settings, "notify")
    _, url, schema = service_urls(settings, "notify")
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(schema))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
