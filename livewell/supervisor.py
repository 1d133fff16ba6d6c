"""`livewell run`: migrate, start the five processes, restart any that dies, stop cleanly.

Each child runs in its own session, so Ctrl-C reaches only the supervisor, which then stops
the children in order (gateway first, so no request arrives at a stopping service).
Migrations run in a process of their own (`livewell migrate`), so the supervisor, which lives
as long as everything else, never holds Alembic and every service's models (about 50 MB). The
children start at the same time and import while the databases are migrated, but none serves
before all migrations are done: each waits on a pipe of its own for the supervisor's word
(`livewell.migrated`), and a failed migration stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from livewell.migrated import MIGRATED_FD
from services.common.settings import ServiceName, Settings, load_dev_secrets

ORDER: tuple[ServiceName, ...] = ("intake", "referral", "keyperson", "notify", "site",
                                  "desk", "gateway")
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0
STOP_GRACE = 10.0


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the supervisor itself is killed, so none is orphaned.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    waiting: int | None = None  # while migrations run: the pipe on which the child waits


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children = {name: Child(name) for name in ORDER}
        self.stopping = asyncio.Event()
        self.run_dir = settings.var_dir / "run"
        self.migrating = False

    async def start_child(self, child: Child) -> None:
        fds: tuple[int, ...] = ()
        env = None
        if self.migrating:  # the child imports now and serves when told migrations are done
            read_end, child.waiting = os.pipe()
            fds, env = (read_end,), {**os.environ, MIGRATED_FD: str(read_end)}
        try:
            child.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "livewell", "serve", child.name,
                start_new_session=True, preexec_fn=_die_with_parent, pass_fds=fds, env=env,
            )
        finally:
            for fd in fds:
                os.close(fd)
        child.started_at = time.monotonic()
        self.write_state()

    def write_state(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state = {"supervisor": os.getpid(), "children": {
            c.name: {"pid": c.process.pid if c.process else None, "restarts": c.restarts}
            for c in self.children.values()}}
        tmp = self.run_dir / "processes.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.run_dir / "processes.json")

    async def watch(self, child: Child) -> None:
        """Restart `child` whenever it exits, with backoff, until the supervisor stops."""
        while not self.stopping.is_set():
            assert child.process is not None
            code = await child.process.wait()
            if self.stopping.is_set():
                return
            if time.monotonic() - child.started_at > HEALTHY_AFTER:
                child.backoff = 1.0
            _say(f"{child.name} exited (code {code}); restarting in {child.backoff:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=child.backoff)
            if self.stopping.is_set():
                return
            child.backoff = min(child.backoff * 2, MAX_BACKOFF)
            child.restarts += 1
            await self.start_child(child)
            _say(f"{child.name} restarted (pid {child.process.pid}, restart {child.restarts})")

    async def wait_ready(self, timeout: float = 60.0) -> bool:
        url = f"http://127.0.0.1:{self.settings.gateway_port}/readyz"
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            while time.monotonic() < deadline and not self.stopping.is_set():
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                    async with http.get(url) as resp:
                        if resp.status == 200:
                            return True
                await asyncio.sleep(0.25)
        return False

    async def stop_all(self) -> None:
        for name in reversed(ORDER):  # gateway first
            proc = self.children[name].process
            if proc and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), timeout=STOP_GRACE)
                except TimeoutError:
                    _say(f"{name} did not stop in {STOP_GRACE:.0f} s; killing it")
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / "processes.json").unlink()

    async def migrate(self) -> int:
        """`livewell migrate` in a process of its own; its exit code."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "livewell", "migrate", preexec_fn=_die_with_parent)
        return await proc.wait()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        self.migrating = True
        try:
            for child in self.children.values():
                await self.start_child(child)
            code = await self.migrate()
        finally:
            self.migrating = False
        migrated = code == 0 and not self.stopping.is_set()
        if not migrated:
            if not self.stopping.is_set():
                _say(f"migrations failed (exit code {code}); stopping")
            await self.stop_all()
        for child in self.children.values():
            if child.waiting is not None:
                with contextlib.suppress(OSError):  # a child that already died
                    if migrated:
                        os.write(child.waiting, b"go")
                os.close(child.waiting)  # without "go", a child exits without serving
                child.waiting = None
        if not migrated:
            return code
        watchers = [asyncio.create_task(self.watch(c)) for c in self.children.values()]
        ready = await self.wait_ready()
        if ready:
            self.print_banner()
        elif not self.stopping.is_set():
            _say("not ready within 60 s; still trying (see the logs above, and /readyz)")
        await self.stopping.wait()
        _say("stopping")
        await self.stop_all()
        for task in watchers:
            task.cancel()
        _say("stopped")
        return 0

    def print_banner(self) -> None:
        s = self.settings
        gw = f"http://127.0.0.1:{s.gateway_port}"
        lines = [
            "Living Well Line is running.",
            f"  gateway    {gw}   (API docs {gw}/docs, readiness {gw}/readyz)",
            f"  website    {gw}/   (advice, self-assessment, contact form)",
            f"  desk       {gw}/desk/   (staff sign in; invite: livewell staff invite)",
            *(f"  {n:<10} {s.service_url(n)}   (internal; reached through the gateway)"
              for n in ORDER[:-1]),
            f"  data       {_describe_db(s)}",
        ]
        if s.twilio_dry_run:
            lines += [
                "Dry run: no Twilio credentials, so SMS and calls are recorded, not sent,",
                f"  under {(s.var_dir / 'dry-run').resolve()}/.",
                "  Twilio webhooks are checked with the development token: "
                + s.twilio_signing_token,
            ]
        if not s.email_inbound_secret:
            lines.append(f"  Inbound email webhook password (basic auth): {s.email_secret}")
        if not s.smtp_url:
            lines.append("  Acknowledgement emails go to the dry-run transport (SMTP_URL unset).")
        lines += [
            "Create a key:  .venv/bin/livewell keys create --org \"Lambeth Police\" --role partner",
            "Ctrl-C stops everything.",
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)


def _describe_db(s: Settings) -> str:
    if not s.database_url:
        return f"SQLite files under {s.var_dir.resolve()}/"
    if s.database_url.startswith("sqlite"):
        return "SQLite, a file per service beside " + s.database_url.split(":///", 1)[-1]
    return "PostgreSQL from DATABASE_URL, a schema per service"


def run_supervisor(settings: Settings) -> int:
    """The body of `livewell run`."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    load_dev_secrets(Path(settings.var_dir))  # created once, before the children race for it
    _say("starting the gateway and four services; they serve once migrations are done")
    return asyncio.run(Supervisor(settings).run())
