"""The public website: advice, self-assessment and a contact form, behind the gateway at `/`.

It owns no tables and keeps nothing about anyone: pages are rendered from data files, a
self-assessment is scored and forgotten, and a contact is handed to intake at once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.logs import configure_logging
from services.common.middleware import ServiceMiddleware
from services.common.settings import Settings
from services.common.web import SecurityHeaders, mount_static
from services.site import deps, directory_pages, health, pages
from services.site.deps import HERE, STATIC_PREFIX
from services.site.intake_client import ContactSender
from services.site.kept import ServeKept


class CacheStatic:
    """Lets browsers keep the site's CSS and scripts for an hour: a page view is then one
    request, which matters under the gateway's per-address limit (many people share one
    address on a phone network or in a library)."""

    def __init__(self, app: ASGIApp, prefix: str, max_age: int = 3600) -> None:
        self.app, self.prefix = app, prefix + "/"
        self.header = (b"cache-control", f"public, max-age={max_age}".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, cached)


def create_app(settings: Settings | None = None, sender: ContactSender | None = None,
               now: Callable[[], float] = time.time) -> FastAPI:
    """Build the site (`sender` defaults to intake over HTTP, started in the lifespan)."""
    settings = settings or Settings()
    site = deps.build(settings, sender, now=now)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("site", settings.log_level)
        if site.client is not None:
            await site.client.start()
        try:
            yield
        finally:
            if site.client is not None:
                await site.client.close()

    app = FastAPI(title="Living Well Line: website", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.parts = site  # read back, checked, by deps.of

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        name = "error_404.jinja" if status == 404 else "error.jinja"
        return pages.render(request, name, {"status": status}, status_code=status)

    app.add_exception_handler(StarletteHTTPException, not_found)
    app.include_router(health.router)
    if settings.test_clock:
        app.include_router(health.test_clock_router)
    app.include_router(pages.router)
    directory_pages.install(app)  # the advice pages' "services that can help"
    mount_static(app, STATIC_PREFIX, HERE / "static")
    app.add_middleware(ServeKept, kept=site.kept)  # innermost: after the token and headers
    app.add_middleware(CacheStatic, prefix=STATIC_PREFIX)
    app.add_middleware(SecurityHeaders, no_store=False)
    app.add_middleware(ServiceMiddleware, service="site", token=settings.internal_secret)
    return app
