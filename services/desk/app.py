"""The desk's app: pages behind the gateway (which signed the person in), NHS.UK error pages,
the security headers and `Cache-Control: no-store` on everything."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from services.common.health import Advance
from services.common.logs import configure_logging
from services.common.middleware import ServiceMiddleware
from services.common.settings import Settings
from services.common.web import SecurityHeaders, mount_static
from services.desk import deps
from services.desk.backend import Unavailable
from services.desk.board.keyworkers import router as keyworkers_router
from services.desk.board.matches import router as matches_router
from services.desk.board.outreach import router as outreach_router
from services.desk.board.pages import router as board_router
from services.desk.board.people import router as people_router
from services.desk.board.rota import router as rota_router
from services.desk.board.rules import router as rules_router
from services.desk.board.staff import router as staff_router
from services.desk.directory_edit import router as directory_edit_router
from services.desk.directory_pages import router as directory_router
from services.desk.pages import pages, router
from services.desk.report_pages import router as report_router

log = logging.getLogger("desk")
HERE = Path(__file__).parent


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("desk", settings.log_level)
        desk = deps.build(settings)
        backend = desk.backend  # closed as built, whatever a test puts in its place
        await backend.start()
        app.state.parts = desk  # read back, checked, by deps.of
        log.info("service started", extra={"event": "service.start"})
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(title="Living Well Line desk", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "desk"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        # No database of its own: ready when it serves.
        return JSONResponse({"status": "ready", "service": "desk", "checks": {}})

    if settings.test_clock:
        @app.post("/internal/clock/advance", include_in_schema=False)
        async def advance_clock(body: Advance, request: Request) -> dict[str, str]:
            """Move the desk's clock (time left on a handoff) with the services' clocks."""
            return {"now": deps.of(request.app).clock.advance(body.seconds).isoformat()}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        name = "404.jinja" if exc.status_code in (403, 404) else "error.jinja"
        status = 404 if exc.status_code == 403 else exc.status_code
        return pages.response(request, name, {"status": status}, status_code=status)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        log.error("a service behind the desk did not answer",
                  extra={"event": "desk.upstream_failed", "target": str(exc)})
        return pages.response(request, "error.jinja", {"status": 503}, status_code=503)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # The type only: a message or traceback could carry what a page was showing.
        log.error("desk page failed", extra={"event": "desk.error",
                                             "error": type(exc).__name__})
        return pages.response(request, "error.jinja", {"status": 500}, status_code=500)

    app.include_router(router)
    app.include_router(directory_router)
    app.include_router(directory_edit_router)
    app.include_router(report_router)
    app.include_router(board_router)
    app.include_router(people_router)
    app.include_router(outreach_router)
    app.include_router(matches_router)
    app.include_router(rules_router)
    app.include_router(keyworkers_router)
    app.include_router(rota_router)
    app.include_router(staff_router)
    mount_static(app, "/desk/static", HERE / "static")
    app.add_middleware(SecurityHeaders, no_store=True)
    app.add_middleware(ServiceMiddleware, service="desk", token=settings.internal_secret)
    return app
