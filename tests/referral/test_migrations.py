"""The Alembic history builds exactly the tables the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from services.common.db import connect_args, service_urls
from services.common.migrations import upgrade
from services.common.settings import Settings
from services.referral import models  # noqa: F401 (every table on Base.metadata)
from services.referral.base import Base


def test_migrations_match_the_models(settings: Settings) -> None:
    upgrade(settings, "referral")
    _, url, schema = service_urls(settings, "referral")
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(schema))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
