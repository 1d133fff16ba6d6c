"""The whole system as it runs for real: `livewell run` (the supervisor and its five processes)
on free 127.0.0.1 ports, in front of the Twilio mock, spoken to over HTTP like Twilio and a
partner's system would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from gateway import keys
from gateway.models import AuditEntry
from services.common.audit import audit
from services.common.clock import Clock
from services.common.context import Actor
from services.common.db import Database
from services.common.settings import Settings
from tests.support.databases import fresh_pg_database
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, MockClient, free_port, twilio_mock_process
from tests.support.waiting import eventually as eventually  # where the suite imports it from
from tests.support.waiting import eventually_sync

SERVICES = ("intake", "referral", "keyperson", "notify", "site", "desk")
INTERNAL_TOKEN = "e2e-internal-token"


@dataclass
class Stack:
    gateway_url: str
    ports: dict[str, int]
    env: dict[str, str]
    var_dir: Path
    log_path: Path
    twilio: MockClient
    supervisor: subprocess.Popen[bytes]
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def twilio_number(self) -> str:
        return self.env["TWILIO_PHONE_NUMBER"]

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def sign(self, path: str, params: dict[str, str]) -> dict[str, str]:
        """Headers Twilio would send with this webhook."""
        url = self.gateway_url + path
        return {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)}

    def key(self, org: str, role: str = "partner") -> str:
        """An API key for `org`, made once with the code `livewell keys create` runs (the
        command's own process start and migration check cost seconds a key; the command itself
        is run once, in tests/e2e/test_spine.py)."""
        if (org, role) not in self.keys:
            # The caller is often a coroutine on the session's event loop: the key is written
            # on a loop of its own, in a thread, so it never nests in the caller's.
            with ThreadPoolExecutor(max_workers=1) as pool:
                self.keys[(org, role)] = pool.submit(
                    asyncio.run, self._create_key(org, role)).result(timeout=60)
        return self.keys[(org, role)]

    async def _create_key(self, org: str, role: str) -> str:
        settings = Settings(_env_file=None, database_url=self.env["DATABASE_URL"],
                            var_dir=self.var_dir)
        db = Database(settings, "gateway")
        now = Clock().now()
        try:
            async with db.sessionmaker() as session, session.begin():
                row, secret = keys.new_key(session, org, role, "tests", now)
                audit(session, AuditEntry, Actor(kind="system", key_id="cli"), "create",
                      "api_key", row.id, now)
        finally:
            await db.dispose()
        return secret

    def auth(self, org: str, role: str = "partner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(org, role)}"}

    def processes(self) -> dict[str, Any]:
        """The supervisor's record of its children (pid and restarts)."""
        data: dict[str, Any] = json.loads((self.var_dir / "run" / "processes.json").read_text())
        return data

    async def advance_clock(self, seconds: float) -> None:
        """Move every service's test clock (and the mock's) forward."""
        async with httpx.AsyncClient(timeout=10) as client:
            for name in SERVICES:
                resp = await client.post(self.service_url(name) + "/internal/clock/advance",
                                         json={"seconds": seconds},
                                         headers={"x-internal-token": INTERNAL_TOKEN})
                resp.raise_for_status()
        await self.twilio.advance(seconds)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    last = ""

    def ready() -> bool:
        nonlocal last
        if proc.poll() is not None:
            raise RuntimeError(f"the supervisor exited with {proc.returncode}")
        try:
            resp = httpx.get(url + "/readyz", timeout=2)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
            return False
        last = resp.text
        return resp.status_code == 200

    try:
        eventually_sync(ready, timeout=timeout, interval=0.2, what="the stack to be ready")
    except (AssertionError, RuntimeError) as exc:
        tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
        raise RuntimeError(f"{exc} ({last[:500]})\n{tail}") from exc


@contextmanager
def running_stack(database_url: str, workdir: Path, *, extra_env: dict[str, str] | None = None,
                  ready_timeout: float = 90.0) -> Iterator[Stack]:
    """Start the mock and `livewell run`; stop both (and check nothing is left running)."""
    ports = {name: free_port() for name in ("gateway", *SERVICES)}
    gateway_url = f"http://127.0.0.1:{ports['gateway']}"
    var_dir = workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "stack.log"
    with twilio_mock_process(gateway_url=gateway_url, public_url=gateway_url) as mock:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LIVEWELL_", "TWILIO_"))},
            "DATABASE_URL": database_url,
            "GATEWAY_PORT": str(ports["gateway"]),
            **{f"{n.upper()}_URL": f"http://127.0.0.1:{ports[n]}" for n in SERVICES},
            "PUBLIC_BASE_URL": gateway_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": mock.base_url,
            "TWILIO_PHONE_NUMBER": "+442000000000",
            "EMAIL_INBOUND_SECRET": "e2e-email-secret",
            "LIVEWELL_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "LIVEWELL_VAR_DIR": str(var_dir),
            "LIVEWELL_TEST_CLOCK": "1",
            "LIVEWELL_RELAY_POLL_SECONDS": "0.2",
            # Several systems run at once in a test session, each of six processes, on one
            # PostgreSQL with 100 connections: small pools keep them all under it.
            "LIVEWELL_DB_POOL_SIZE": "3",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "livewell", "run"], env=env,
                                    cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        stack = Stack(gateway_url=gateway_url, ports=ports, env=env, var_dir=var_dir,
                      log_path=log_path, twilio=mock, supervisor=proc)
        try:
            _wait_ready(gateway_url, proc, log_path, ready_timeout)
            yield stack
        finally:
            children = []
            with contextlib.suppress(Exception):
                children = [c["pid"] for c in stack.processes()["children"].values()]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            for pid in children:  # the supervisor stops its children; make sure of it
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(pid, signal.SIGKILL)


@contextmanager
def _new_stack(backend: str, workdir: Path, *,
               extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The whole system on `backend`: a SQLite file under `workdir`, or a fresh PostgreSQL
    database dropped afterwards."""
    if backend == "sqlite":
        with running_stack(f"sqlite:///{workdir / 'livewell.db'}", workdir,
                           extra_env=extra_env) as s:
            yield s
        return
    with fresh_pg_database() as url, running_stack(url, workdir, extra_env=extra_env) as s:
        yield s


class _Booting:
    """One plain system starting in a thread, taken when ready, stopped in a thread."""

    def __init__(self, boot: ThreadPoolExecutor, backend: str, workdir: Path) -> None:
        self._parts = contextlib.ExitStack()
        self._started: Future[Stack] = boot.submit(
            lambda: self._parts.enter_context(_new_stack(backend, workdir)))

    def stack(self) -> Stack:
        return self._started.result()

    def stop(self) -> None:
        """Stop the system (once it has finished starting, or failed to)."""
        if self._started.exception() is None:  # a failed start has cleaned up after itself
            self._parts.close()


class Stacks:
    """The plain systems of a test session (no extra environment), one per module that asks.

    Starting a system costs seconds of CPU (eight Python processes importing the project) and
    stopping one seconds of waiting: while a module uses its system, the next module's starts
    in a thread, and a used one stops in a thread, so that neither holds up the tests. A system
    is started ahead only when the session's tests still need one more on that backend (counted
    at collection, `expect`): running one e2e module starts one system, as before. Each system
    still has its own database, ports, var dir and Twilio mock; whatever a module leaves behind
    never reaches another."""

    def __init__(self) -> None:
        self._boot = ThreadPoolExecutor(max_workers=3, thread_name_prefix="stack-start")
        self._halt = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stack-stop")
        self._next: dict[str, _Booting] = {}  # by backend: the system the next module takes
        self._stopping: list[Future[None]] = []
        self._wanted: Counter[str] = Counter()

    def expect(self, items: list[pytest.Item]) -> None:
        """Count the modules that will take a plain system, by backend."""
        if os.environ.get("PYTEST_XDIST_WORKER"):
            return  # a worker runs some of these modules only: nothing is started ahead
        modules = set()
        for item in items:
            if item.nodeid.startswith(OWN_SYSTEMS) or not PLAIN_FIXTURES & set(
                    getattr(item, "fixturenames", ())):
                continue
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("backend") if callspec else None
            modules.add((str(item.path), backend))
        self._wanted = Counter(str(backend) for _, backend in modules)

    @contextmanager
    def take(self, backend: str, workdir: Path) -> Iterator[Stack]:
        for other in [b for b in self._next if b != backend]:  # the session moved on
            self._stop(self._next.pop(other))
        ahead = self._next.pop(backend, None)
        booting = ahead or _Booting(self._boot, backend, workdir)
        self._wanted[backend] -= 1
        if self._wanted[backend] > 0:
            spare_dir = Path(tempfile.mkdtemp(prefix=f"{workdir.name}-next-", dir=workdir.parent))
            self._next[backend] = _Booting(self._boot, backend, spare_dir)
        try:
            try:
                stack = booting.stack()
            except Exception:
                if ahead is None:
                    raise
                # Started ahead on a busy machine and failed: start one now, as without it.
                booting = _Booting(self._boot, backend, workdir)
                stack = booting.stack()
            yield stack
        finally:
            self._stop(booting)

    def _stop(self, booting: _Booting) -> None:
        self._stopping.append(self._halt.submit(booting.stop))

    def close(self) -> None:
        """Stop what was started ahead and wait for every system to be stopped; a failure to
        stop one is raised here."""
        for booting in self._next.values():
            self._stop(booting)
        self._next.clear()
        errors = [f.exception() for f in self._stopping]
        self._stopping.clear()
        for error in errors:
            if error is not None:
                raise error


# The stack fixtures that take a plain system, and the packages whose systems have an
# environment of their own (started when asked, as before).
PLAIN_FIXTURES = {"stack", "figures_stack", "directory_stack"}
OWN_SYSTEMS = ("tests/security/", "tests/faults/")
STACKS = Stacks()  # the session's; tests/conftest.py counts its modules and closes it


@contextmanager
def stack_on(backend: str, workdir: Path, *,
             extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The whole system on `backend`: a SQLite file under `workdir`, or a fresh PostgreSQL
    database dropped afterwards. A plain one (no `extra_env`) may have been started ahead,
    elsewhere in the session's temporary directory (`Stacks`)."""
    if extra_env:
        with _new_stack(backend, workdir, extra_env=extra_env) as s:
            yield s
        return
    with STACKS.take(backend, workdir) as s:
        yield s
