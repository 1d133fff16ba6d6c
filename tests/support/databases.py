"""Test databases: SQLite files, or fresh (or copied) PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("LIVEWELL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
    return None


def require_pg() -> None:
    """Skip (or, with LIVEWELL_REQUIRE_PG=1 as in CI, fail) when PostgreSQL is absent."""
    problem = pg_problem()
    if problem is None:
        return
    if os.environ.get("LIVEWELL_REQUIRE_PG") == "1":
        pytest.fail(problem + " (LIVEWELL_REQUIRE_PG=1)")
    pytest.skip(problem)


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def copied_pg_database(template_url: str) -> Iterator[str]:
    """A new database copied from the database at `template_url` (CREATE DATABASE … TEMPLATE:
    tens of milliseconds, where migrating from nothing takes most of a second); dropped
    afterwards. Nothing may be connected to the template while it is copied."""
    base, template = template_url.rsplit("/", 1)
    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
