"""Fixtures shared by the whole suite: the database backends every test runs against."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.migrations import upgrade_all
from services.common.settings import Settings
from tests.support.databases import copied_pg_database, fresh_pg_database, require_pg
from tests.support.stack import STACKS

pytest_plugins = ["tests.support.browser"]  # the `browser` fixture for page tests

BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shuffle", type=int, metavar="SEED", default=None,
        help="run the modules, and the tests in each, in an order shuffled by SEED, to find "
             "tests that depend on others' order (each backend's tests stay together, as "
             "pytest-random-order's buckets would not keep them: every switch of backend "
             "makes a new session database and new end-to-end systems)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seed = config.getoption("--shuffle")
    if seed is None:
        return
    rng = random.Random(seed)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(str(item.path), []).append(item)
    order = list(modules)
    rng.shuffle(order)
    for tests in modules.values():
        rng.shuffle(tests)
    shuffled = [item for module in order for item in modules[module]]
    items[:] = sorted(shuffled, key=_backend_rank)  # stable: the shuffle stays within each


def _backend_rank(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec else None
    return BACKENDS.index(backend) if backend in BACKENDS else -1


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = config.getoption("--shuffle")
    return None if seed is None else f"tests shuffled with seed {seed} (--shuffle)"


def pytest_collection_finish(session: pytest.Session) -> None:
    """How many end-to-end modules will ask for a plain system, so that one is started ahead
    only when another module will take it."""
    STACKS.expect(session.items)


@pytest.fixture(scope="session", autouse=True)
def _systems_stopped() -> Iterator[None]:
    """Every system the session started is stopped before it ends (those stopped in the
    background, and one started ahead that no module took)."""
    yield
    STACKS.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test that uses a database runs once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        require_pg()
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every service's tables, migrated from nothing once per backend and session."""
    folder = tmp_path_factory.mktemp("template")
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'livewell.db'}"
        upgrade_all(make_settings(url, folder))
        yield url
        return
    with fresh_pg_database() as url:
        upgrade_all(make_settings(url, folder))
        yield url


@pytest.fixture(scope="module")
def database_url(backend: str, migrated_template: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for this test module, copied from the migrated template (SQLite files, or
    CREATE DATABASE … TEMPLATE): what one module leaves behind (audit entries, directory
    services, outbox rows) never reaches another, whatever order they run in."""
    if backend == "sqlite":
        template = Path(migrated_template.removeprefix("sqlite:///"))
        folder = tmp_path_factory.mktemp("db")
        for part in template.parent.glob(f"{template.stem}-*"):  # a file per service
            shutil.copy(part, folder / part.name)
        yield f"sqlite:///{folder / template.name}"
        return
    with copied_pg_database(migrated_template) as url:
        yield url


def make_settings(database_url: str, var_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: its own var dir and database, fixed secrets, test clock on."""
    values: dict[str, object] = {
        "database_url": database_url,
        "var_dir": var_dir,
        "internal_token": "test-internal-token",
        "twilio_auth_token": None,
        "email_inbound_secret": "test-email-secret",
        "test_clock": True,
        "relay_poll_seconds": 0.05,
    }
    values.update({k.lower(): v for k, v in overrides.items()})
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test (one database per backend and test module)."""
    return make_settings(database_url, tmp_path)
