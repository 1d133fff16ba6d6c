"""Notify: handoff SMS and calls to key workers, their replies, escalation and alerts."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.app import create_service_app
from services.common.kit import Kit
from services.common.settings import Settings
from services.notify import alerts, figures, handoffs, signposts
from services.notify.api import board, desk, desk_policy, internal, staff, twilio
from services.notify.config import NotifyConfig
from services.notify.context import Notify
from services.notify.dispatcher import Dispatcher, running
from services.notify.models import KIT_MODELS
from services.notify.policy import load_policy
from services.notify.senders import DryRunSender, TwilioSender

DRY_RUN_FILE = "dry-run/sms-and-calls.jsonl"


def build_senders(settings: Settings, config: NotifyConfig) -> TwilioSender | DryRunSender:
    """The real Twilio transport when credentials are set, else the dry run under `var/`."""
    if settings.twilio_dry_run:
        return DryRunSender(settings.var_dir / DRY_RUN_FILE, settings.twilio_phone_number)
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioSender(account_sid=settings.twilio_account_sid,
                        auth_token=settings.twilio_auth_token,
                        base_url=settings.twilio_api_base_url,
                        from_number=settings.twilio_phone_number,
                        status_callback=settings.public_base_url.rstrip("/") + "/twilio/status",
                        timeout=config.twilio_timeout_seconds)


def create_app(settings: Settings | None = None, config: NotifyConfig | None = None) -> FastAPI:
    settings = settings or Settings()
    config = config or NotifyConfig()
    policy = load_policy(config.policy_file)

    @contextlib.asynccontextmanager
    async def setup(kit: Kit) -> AsyncIterator[None]:
        sender = build_senders(settings, config)
        ctx = Notify(kit=kit, config=config, policy=policy, sms=sender, voice=sender)
        kit.extras["notify"] = ctx

        async def escalate(session: AsyncSession, payload: dict[str, Any]) -> None:
            await handoffs.escalate(session, ctx, payload)

        async def recipients(session: AsyncSession, payload: dict[str, Any], body: Any) -> None:
            await alerts.on_recipients(session, ctx, payload, body)

        kit.relay.local_handlers[handoffs.ESCALATE] = escalate
        kit.relay.reply_handlers[alerts.RECIPIENTS] = recipients
        kit.relay.senders[alerts.ROTA_TARGET] = alerts.rota_sender(kit.client)
        kit.relay.on_dead = functools.partial(alerts.dead_letter, ctx=ctx)
        dispatcher = Dispatcher(ctx)
        kit.extras["dispatcher"] = dispatcher
        kit.db.on_outbox_commit(dispatcher.wake)
        try:
            async with running(dispatcher, config.dispatch_in_background):
                yield
        finally:
            await sender.close()

    return create_service_app(
        service="notify",
        settings=settings,
        models=KIT_MODELS,
        routers=[internal.router, twilio.router, staff.router, desk.router, figures.router,
                 signposts.router, board.router, desk_policy.router],
        title="Living Well Line: notify",
        description="Handoff SMS and voice calls to key workers, their replies, escalation "
                    "when nobody answers, and alerts to the duty coordinators.",
        setup=setup,
    )
