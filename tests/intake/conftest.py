"""Intake under test: migrated, lifespan running, peers faked on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from services.common.context import H_ACTOR_KIND
from services.intake.app import create_app
from services.intake.mail_out import RecordingEmailSender
from services.intake.models import OutboxMessage
from services.intake.settings import IntakeSettings
from tests.conftest import make_settings
from tests.intake.fakes import FakePeers, referral_created
from tests.support.service import ServiceHarness, running_service
from tests.support.waiting import eventually

CRISIS_LINE = "+448001234567"
TWILIO = {H_ACTOR_KIND: "twilio"}


@pytest.fixture
async def peers() -> AsyncIterator[FakePeers]:
    fake = FakePeers()
    fake.on("POST", "/internal/referrals", referral_created)
    fake.on("POST", "/internal/replies", (200, {"handled": False}))
    fake.on("POST", "/internal/person-messages", (200, {"message_id": "m1"}))
    fake.on("POST", "/internal/alerts", (200, {"alert_id": "a1"}))
    fake.on("GET", "/internal/rota/on-duty", (200, {"numbers": []}))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def email_sender() -> RecordingEmailSender:
    return RecordingEmailSender()


@pytest.fixture
def intake_config() -> IntakeSettings:
    return IntakeSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def intake(database_url: str, tmp_path: Path, peers: FakePeers,
                 email_sender: RecordingEmailSender,
                 intake_config: IntakeSettings) -> AsyncIterator[ServiceHarness]:
    settings = make_settings(database_url, tmp_path, keyperson_url=peers.url,
                             notify_url=peers.url, referral_url=peers.url,
                             crisis_line_number=CRISIS_LINE,
                             public_base_url="https://line.example")
    async with running_service("intake", lambda s: create_app(s, intake_config, email_sender),
                               settings) as harness:
        yield harness
        # One database per backend is shared by the session: what this test left undelivered
        # must not reach the next test's fakes.
        async with harness.kit.db.sessionmaker() as session, session.begin():
            await session.execute(update(OutboxMessage)
                                  .where(OutboxMessage.delivered_at.is_(None))
                                  .values(dead_at=harness.kit.clock.now()))


async def post_twilio(harness: ServiceHarness, path: str, form: dict[str, Any],
                      **params: Any) -> httpx.Response:
    """A Twilio webhook as the gateway forwards it."""
    return await harness.client.post(path, data=form, params=params, headers=TWILIO)


async def outbox_settled(harness: ServiceHarness) -> None:
    """Wait until intake's outbox has nothing left to deliver: whatever was not sent by then
    was never asked for, so a test can say something did not happen without a pause."""

    async def settled() -> bool:
        async with harness.kit.db.sessionmaker() as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None)))
        return pending == 0

    await eventually(settled, interval=0.02, what="intake's outbox to be delivered")
