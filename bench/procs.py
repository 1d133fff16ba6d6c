"""Processes of the benchmark: run the load generator, read memory and CPU from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` in MB (VmRSS), None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def smaps_mb(pid: int) -> dict[str, float]:
    """USS (private pages) and PSS of `pid` in MB, from /proc/<pid>/smaps_rollup."""
    fields: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError), \
            open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"uss": round(uss / 1024, 1), "pss": round(fields.get("Pss", 0) / 1024, 1)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class CpuMeter:
    """CPU share of a set of processes over an interval (1.0 = one core busy)."""

    pids: dict[str, int]
    started: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.started = {n: cpu_seconds(p) for n, p in self.pids.items()}
        self.wall = loop.time()

    def shares(self) -> dict[str, float]:
        elapsed = asyncio.get_running_loop().time() - self.wall
        return {n: round((cpu_seconds(p) - self.started[n]) / elapsed, 3)
                for n, p in self.pids.items()} if elapsed > 0 else {}


@dataclass
class MemorySampler:
    """Samples the RSS of named processes until stopped; keeps the peak of each."""

    pids: dict[str, int]
    every: float = 0.5
    peak: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def snapshot(self) -> dict[str, float]:
        return {n: round(v, 1) for n, p in self.pids.items() if (v := rss_mb(p)) is not None}

    async def _run(self) -> None:
        while True:
            for name, value in self.snapshot().items():
                self.peak[name] = max(self.peak.get(name, 0.0), value)
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return dict(self.peak)


async def run_loadgen(spec: dict[str, Any], timeout: float,
                      meter: CpuMeter | None = None) -> dict[str, Any]:
    """Run `bench.loadgen` in its own process with `spec`; its JSON answer. `meter` starts
    when the generator has built its requests and starts loading, and is read at its end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=2**26)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(spec).encode())
    proc.stdin.close()

    shares: dict[str, float] = {}

    async def read() -> tuple[bytes, bytes]:
        assert proc.stdout is not None and proc.stderr is not None
        first = await proc.stdout.readline()
        if first.strip() == b"go" and meter is not None:
            meter.start()
        out = await proc.stdout.read()
        if meter is not None:
            shares.update(meter.shares())
        err = await proc.stderr.read()
        await proc.wait()
        return out, err

    try:
        out, err = await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"the load generator ran past {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"the load generator failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    if shares:
        result["server_cpu_share"] = shares
    return result


@contextmanager
def bare_process(module: str, port: int, *args: str) -> Iterator[tuple[int, int]]:
    """`python -m module *args` (a bare endpoint) in its own process, once it listens on
    `port`; yields (port, pid) and stops it afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not start") from None
                time.sleep(0.05)  # waiting on the port, not on a fixed time
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def json_run_on_fresh_database(module: str, timeout: float) -> dict[str, Any]:
    """`python -m module --json` on a fresh PostgreSQL database of its own; the JSON line it
    prints last, or {"error": …} when it ran past `timeout` or printed none."""
    from pathlib import Path

    from tests.support.databases import fresh_pg_database

    with fresh_pg_database() as url:
        try:
            proc = subprocess.run([sys.executable, "-m", module, "--json"],
                                  env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                                  text=True, timeout=timeout, cwd=Path(__file__).parent.parent)
        except subprocess.TimeoutExpired:
            return {"error": f"ran past {timeout:.0f} s"}
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            found: dict[str, Any] = json.loads(line)
            return found
    return {"error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout)[-300:]}"}
