from __future__ import annotations

import importlib

from sqlalchemy import create_engine, inspect

from services.common.db import service_urls
from services.common.migrations import MIGRATED, upgrade_all
from services.common.settings import Settings


def test_every_service_model_can_be_loaded_in_one_process() -> None:
    """`livewell migrate` loads all of them; shared kit tables must not collide."""
    for service in MIGRATED:
        module = "gateway.models" if service == "gateway" else f"services.{service}.models"
        importlib.import_module(module)


def test_migrations_give_each_service_its_own_tables(settings: Settings) -> None:
    upgrade_all(settings)
    upgrade_all(settings)  # running again changes nothing
    for service in MIGRATED:
        _, sync_url, schema = service_urls(settings, service)
        engine = create_engine(sync_url)
        try:
            tables = set(inspect(engine).get_table_names(schema=schema))
        finally:
            engine.dispose()
        assert {"outbox", "inbox", "audit_log", "alembic_version"} <= tables, service


def test_the_audit_log_is_append_only_in_the_database(settings: Settings) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    upgrade_all(settings)
    _, sync_url, schema = service_urls(settings, "gateway")
    engine = create_engine(sync_url, connect_args={"options": f"-csearch_path={schema}"}
                           if schema else {})
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO audit_log (at, actor_kind, action, entity_type, entity_id) "
                "VALUES (CURRENT_TIMESTAMP, 'system', 'create', 'api_key', 'k1')"))
        for sql in ("UPDATE audit_log SET action = 'read'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()
