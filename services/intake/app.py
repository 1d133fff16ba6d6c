"""Intake: the single number and address. Voice IVR, SMS, email, the person index, callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.kit import Kit
from services.common.settings import Settings
from services.intake import deps, figures, handlers
from services.intake.api import (
    board,
    callbacks,
    desk,
    desk_matches,
    email,
    internal,
    people,
    people_search,
    signposts,
    sms,
    voice,
)
from services.intake.api import web as web_contacts
from services.intake.mail_out import EmailSender, email_sender_for
from services.intake.models import KIT_MODELS
from services.intake.settings import IntakeSettings

DESCRIPTION = """The front door: Twilio voice and SMS webhooks, email in, the person index
and the callback list. Reached only through the gateway."""


def create_app(settings: Settings | None = None, config: IntakeSettings | None = None,
               email_sender: EmailSender | None = None) -> FastAPI:
    """Build the intake service (`config` and `email_sender` default from the environment)."""
    settings = settings or Settings()
    config = config or IntakeSettings()

    @asynccontextmanager
    async def setup(kit: Kit) -> AsyncIterator[None]:
        sender = email_sender or email_sender_for(
            settings.smtp_url, settings.var_dir / "dry-run" / "email.jsonl")
        intake = deps.build(kit, config, sender)
        kit.own = intake
        handlers.install(kit, intake)
        try:
            if config.smtp_listen_port is None:
                yield
                return
            from services.intake.smtp_listener import smtp_listener  # aiosmtpd only if listening

            async with smtp_listener(intake, config.smtp_listen_host, config.smtp_listen_port):
                yield
        finally:
            await intake.calls.close()

    return create_service_app(
        service="intake", settings=settings, models=KIT_MODELS,
        routers=[voice.router, sms.router, email.router, callbacks.router, people.router,
                 internal.router, web_contacts.router, figures.router, desk.router,
                 board.router, people_search.router, desk_matches.router, signposts.router],
        title="Living Well Line: intake", description=DESCRIPTION, setup=setup,
    )
