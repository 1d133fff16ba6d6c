"""The public website: advice, self-assessment and a contact form, behind the gateway at `/`.

It owns no tables and keeps nothing about anyone: pages are rendered from data files, a
self-assessment is scored and forgotten, and a contact is handed to intake at once.
"""

from __future__ import annotations

import gettext
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.http import ServiceClient
from services.common.logs import configure_logging
from services.common.middleware import ServiceMiddleware
from services.common.settings import Settings
from services.common.web import Pages, SecurityHeaders, mount_static
from services.site import directory_pages, health, pages
from services.site.content import Library
from services.site.i18n import load_catalogues
from services.site.intake_client import ContactSender, IntakeContacts
from services.site.kept import KeptPage, ServeKept
from services.site.tokens import Signer

HERE = Path(__file__).parent
STATIC_PREFIX = "/static/site"
Questionnaires = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Site:
    settings: Settings
    pages: Pages
    catalogues: dict[str, gettext.NullTranslations]
    library: Library
    questionnaires: Questionnaires
    signer: Signer
    sender: ContactSender | None
    wall_clock: Callable[[], float]
    secure_cookies: bool
    clock_offset: float = 0.0  # moved by the test clock only
    # Pages that are the same for everyone in a language, rendered once (pages.cached):
    # the contact form's text (its token is filled in per request), and the rest kept ready
    # to send by (language, path) (services/site/kept.py).
    page_cache: dict[tuple[str, ...], str] = field(default_factory=dict)
    kept: dict[tuple[str, str], KeptPage] = field(default_factory=dict)

    def now(self) -> float:
        return self.wall_clock() + self.clock_offset


def _questionnaires() -> Questionnaires:
    return {name: yaml.safe_load((HERE / "questionnaires" / f"{name}.yaml").read_text("utf-8"))
            for name in ("phq9", "gad7")}


def _number_words(e164: str) -> dict[str, str]:
    """The single number as people read it and as a `tel:` link."""
    national = phonenumbers.format_number(phonenumbers.parse(e164, "GB"),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    return {"phone_display": national, "phone_tel": e164}


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
    site = Site(
        settings=settings,
        pages=Pages([HERE / "templates"], globals_={
            **_number_words(settings.twilio_phone_number),
            "email_address": settings.email_address, "static": STATIC_PREFIX}),
        catalogues=load_catalogues(), library=Library(), questionnaires=_questionnaires(),
        signer=Signer(settings.internal_secret), sender=sender, wall_clock=now,
        secure_cookies=settings.public_base_url.startswith("https://"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("site", settings.log_level)
        client: ServiceClient | None = None
        if site.sender is None:
            client = ServiceClient(settings)
            await client.start()
            site.sender = IntakeContacts(client)
        try:
            yield
        finally:
            if client is not None:
                await client.close()

    app = FastAPI(title="Living Well Line: website", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.site = site

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        name = "error_404.jinja" if status == 404 else "error.jinja"
        return pages.render(request, name, {"status": status}, status_code=status)

    app.add_exception_handler(StarletteHTTPException, not_found)
    app.include_router(health.router)
    if settings.test_clock:
        app.include_router(health.test_clock_router)
    app.include_router(pages.router)
    directory_pages.install(app, settings)  # the advice pages' "services that can help"
    mount_static(app, STATIC_PREFIX, HERE / "static")
    app.add_middleware(ServeKept, kept=site.kept)  # innermost: after the token and headers
    app.add_middleware(CacheStatic, prefix=STATIC_PREFIX)
    app.add_middleware(SecurityHeaders, no_store=False)
    app.add_middleware(ServiceMiddleware, service="site", token=settings.internal_secret)
    return app
