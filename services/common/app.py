"""The app factory every service uses: the same lifespan, middleware and error model."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from services.common.clock import Clock
from services.common.db import Database
from services.common.errors import install_error_handlers
from services.common.health import router as health_router
from services.common.health import test_clock_router
from services.common.http import ServiceClient
from services.common.kit import Kit, KitModels
from services.common.logs import configure_logging
from services.common.middleware import ServiceMiddleware
from services.common.openapi import install_openapi
from services.common.outbox import OutboxRelay
from services.common.settings import ServiceName, Settings

log = logging.getLogger(__name__)

Setup = Callable[[Kit], AbstractAsyncContextManager[None]]


async def stop_tasks(tasks: Sequence[asyncio.Task[None]], grace: float = 5.0) -> None:
    """Let background tasks finish what they hold (asked to stop beforehand), then cancel
    any still running: a cancelled transaction can hold SQLite's write lock for seconds."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_service_app(
    *,
    service: ServiceName,
    settings: Settings,
    models: KitModels,
    routers: Sequence[APIRouter],
    title: str,
    description: str,
    setup: Setup | None = None,
    run_relay: bool = True,
) -> FastAPI:
    """Build a service: the kit in app.state.kit, routers, problem+json errors, health."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, settings.log_level)
        db = Database(settings, service)
        client = ServiceClient(settings)
        await client.start()
        clock = Clock()
        relay = OutboxRelay(db, models.outbox, client, clock,
                            poll_seconds=settings.relay_poll_seconds,
                            max_failures=settings.outbox_max_failures)
        kit = Kit(service=service, settings=settings, db=db, clock=clock, client=client,
                  relay=relay, models=models)
        app.state.kit = kit
        tasks: list[asyncio.Task[None]] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                if setup is not None:
                    await stack.enter_async_context(setup(kit))
                if run_relay:
                    tasks.append(asyncio.create_task(relay.run_forever(), name="outbox-relay"))
                    retention = timedelta(days=settings.outbox_retention_days)
                    tasks.append(asyncio.create_task(relay.keep_tidy(models.inbox, retention),
                                                     name="outbox-purge"))
                log.info("service started", extra={"event": "service.start"})
                yield
                relay.stop()
                await stop_tasks(tasks)
        finally:
            await client.close()
            await db.dispose()
            log.info("service stopped", extra={"event": "service.stop"})

    # No slash redirects: a 307 would name this service's own address in `Location`, and a
    # path either exists or is a 404 problem.
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  redirect_slashes=False)
    install_error_handlers(app)
    install_openapi(app)  # every operation's errors, as install_error_handlers answers them
    app.include_router(health_router)
    if settings.test_clock:
        app.include_router(test_clock_router)
    for router in routers:
        app.include_router(router)
    app.add_middleware(ServiceMiddleware, service=service, token=settings.internal_secret)
    return app
