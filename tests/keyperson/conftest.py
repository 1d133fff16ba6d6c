"""Keyperson test fixtures: a fresh, migrated database per test (copied from a template, so
rankings and the rota see only the test's own workers), and a recording outbox."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from services.common.migrations import upgrade
from services.common.settings import Settings
from services.keyperson.app import create_app
from tests.conftest import make_settings
from tests.keyperson.factories import Recorder
from tests.support.databases import PG_ADMIN_URL, fresh_pg_database
from tests.support.service import ServiceHarness, running_service

CLOSED = "http://127.0.0.1:9"  # nothing listens: no test event can reach a real service


@pytest.fixture(scope="session")
def template_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A keyperson database migrated once per session, copied for each test."""
    folder = tmp_path_factory.mktemp("keyperson-template")
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'template.db'}"
        upgrade(make_settings(url, folder), "keyperson")
        yield url
        return
    with fresh_pg_database() as url:
        upgrade(make_settings(url, folder), "keyperson")
        yield url


@pytest.fixture
def settings(backend: str, template_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings on this test's own copy of the template database."""
    if backend == "sqlite":
        src = Path(template_url.removeprefix("sqlite:///"))
        shutil.copy(src.with_name("template-keyperson.db"), tmp_path / "kp-keyperson.db")
        yield make_settings(f"sqlite:///{tmp_path / 'kp.db'}", tmp_path,
                            notify_url=CLOSED, referral_url=CLOSED)
        return
    name = f"lw_kp_{uuid.uuid4().hex[:12]}"
    template = template_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield make_settings(template_url.rsplit("/", 1)[0] + "/" + name, tmp_path,
                            notify_url=CLOSED, referral_url=CLOSED)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def keyperson(settings: Settings) -> AsyncIterator[ServiceHarness]:
    async with running_service("keyperson", create_app, settings) as harness:
        yield harness


@pytest.fixture
def sent(keyperson: ServiceHarness) -> Recorder:
    """What the outbox delivers to notify and referral, recorded instead of sent."""
    recorder = Recorder()
    for target in ("notify", "referral"):
        keyperson.kit.relay.senders[target] = recorder.send
    return recorder
