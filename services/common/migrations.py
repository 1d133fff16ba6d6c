"""Each service's own Alembic history, run programmatically (`livewell migrate`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.pool import NullPool

from services.common.db import configure_engine, connect_args, service_urls
from services.common.settings import ServiceName, Settings

MIGRATED: tuple[ServiceName, ...] = ("gateway", "intake", "referral", "keyperson", "notify")


def _package_dir(service: ServiceName) -> Path:
    module = "gateway" if service == "gateway" else f"services.{service}"
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no package for {service}")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(settings: Settings, service: ServiceName) -> Config:
    """An Alembic config aimed at one service's migrations and database."""
    _, sync_url, schema = service_urls(settings, service)
    if sync_url.startswith("sqlite:///"):
        Path(sync_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(_package_dir(service) / "migrations"))
    cfg.attributes["url"] = sync_url
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(settings: Settings, service: ServiceName, revision: str = "head") -> None:
    """Bring one service's database up to `revision`."""
    command.upgrade(alembic_config(settings, service), revision)


def upgrade_all(settings: Settings) -> None:
    """Migrate the gateway and the four services."""
    for service in MIGRATED:
        upgrade(settings, service)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's `migrations/env.py`: online migrations in its own schema."""
    config = context.config
    url: str = config.attributes["url"]
    schema: str | None = config.attributes.get("schema")
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(schema))
    configure_engine(engine)
    with engine.connect() as conn:
        if schema:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
