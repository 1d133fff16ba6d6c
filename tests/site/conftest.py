"""The site in-process (httpx over ASGI) in front of a fake intake that records what it gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.common.context import H_INTERNAL_TOKEN
from services.common.promises import promises, words_for
from services.site.app import create_app
from services.site.intake_client import IntakeUnavailable
from tests.conftest import make_settings


@dataclass
class FakeIntake:
    """Answers like intake: one reference per token; crisis when the message says so."""

    received: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    # The window intake answers, when a test wants one other than the routing rules' (as
    # from an intake whose rules file has just changed).
    window: timedelta | None = None
    _refs: dict[str, str] = field(default_factory=dict)

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.down:
            raise IntakeUnavailable("ClientConnectorError")
        self.received.append(payload)
        duplicate = payload["token"] in self._refs
        ref = self._refs.setdefault(payload["token"], f"LW-TEST-{len(self._refs) + 1:04d}")
        crisis = "kill myself" in payload["message"] or (payload.get("phq9_item9") or 0) > 0
        held = payload["suspected_spam"] and not crisis
        urgency = "emergency" if crisis else "routine"
        window = self.window or promises().window(urgency)
        return {"contact_id": "c1", "reference": None if held else ref, "crisis": crisis,
                "urgency": urgency, "held": held, "response_time": words_for(window),
                "response_window_seconds": int(window.total_seconds()),
                "duplicate": duplicate}


@dataclass
class SiteHarness:
    client: httpx.AsyncClient
    intake: FakeIntake
    app: FastAPI


@pytest.fixture
def fake_intake() -> FakeIntake:
    return FakeIntake()


@pytest.fixture
async def site(tmp_path: Path, fake_intake: FakeIntake) -> AsyncIterator[SiteHarness]:
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path,
                             twilio_phone_number="+442079460000")
    app = create_app(settings, fake_intake)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://site",
                                     headers={H_INTERNAL_TOKEN: settings.internal_secret}
                                     ) as client:
            yield SiteHarness(client, fake_intake, app)
