"""Database: per-service URL, engine, the request-owned session and shared column types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from services.common.settings import ServiceName, Settings

# The session's mark that its transaction queued work (set by `outbox.wake_after_commit`):
# after the commit, `Database.on_outbox_commit` hooks wake the queues that drain it.
QUEUED_WORK = "outbox_pending"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Metadata with stable constraint names, so migrations can refer to them."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSON(none_as_null=True), "sqlite")


class ServiceBase(DeclarativeBase):
    """Base of every service's models; each service subclasses it with its own metadata."""

    __abstract__ = True
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[str]: JSONType}


def insert_for(dialect: str, model: Any) -> PgInsert | SqliteInsert:
    """An INSERT with `on_conflict_do_nothing` / `on_conflict_do_update`, on either backend."""
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


def service_urls(settings: Settings, service: ServiceName) -> tuple[str, str, str | None]:
    """(async URL, sync URL, schema) for one service's own database."""
    raw = settings.database_url
    if not raw:
        path = (settings.var_dir / f"{service}.db").resolve()
        return f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}", None
    url = make_url(raw)
    if url.get_backend_name() == "sqlite":
        base = Path(url.database or "livewell.db")
        path = base.with_name(f"{base.stem}-{service}{base.suffix or '.db'}").resolve()
        return f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}", None
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        rendered = url.render_as_string(hide_password=False)
        return rendered, rendered, service
    raise ValueError(f"DATABASE_URL: unsupported backend {url.get_backend_name()!r}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling is off; BEGIN IMMEDIATE below takes the write
    # lock up front, so two writers queue on busy_timeout instead of deadlocking.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def connect_args(schema: str | None) -> dict[str, Any]:
    """Driver arguments: on PostgreSQL, the service's schema as the search path."""
    return {"options": f"-csearch_path={schema}"} if schema else {}


def configure_engine(engine: Engine) -> None:
    """Per-connection set-up for SQLite: pragmas and immediate transactions."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)


class Database:
    """One service's engine and session factory, built in the lifespan."""

    def __init__(self, settings: Settings, service: ServiceName) -> None:
        async_url, self.sync_url, self.schema = service_urls(settings, service)
        if async_url.startswith("sqlite"):
            Path(async_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(async_url, poolclass=NullPool)
        else:
            self.engine = create_async_engine(
                async_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args=connect_args(self.schema),
            )
        configure_engine(self.engine.sync_engine)
        self._commit_hooks: list[Callable[[], None]] = []

        class _Session(Session):
            pass

        @event.listens_for(_Session, "after_commit")
        def _after_commit(session: Session) -> None:
            if session.info.pop(QUEUED_WORK, False):
                for hook in self._commit_hooks:
                    hook()

        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_Session
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_outbox_commit(self, hook: Callable[[], None]) -> None:
        """Call `hook` after any commit that wrote to the outbox (wakes the relay)."""
        self._commit_hooks.append(hook)

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller owns: commit on success, roll back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
