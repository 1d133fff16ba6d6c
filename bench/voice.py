"""Voice webhook: the bare FastAPI app (the limit of the stack) against `POST /twilio/voice`
through gateway → intake, with the same generator, connections and machine."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.procs import CpuMeter, run_loadgen


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def bare_app() -> Iterator[tuple[int, int]]:
    """The bare endpoint in its own uvicorn process; yields (port, pid)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bare app did not start") from None
                time.sleep(0.05)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def voice_recipe(public_url: str, auth_token: str, account_sid: str, to: str) -> dict[str, Any]:
    return {"kind": "voice", "path": "/twilio/voice", "public_url": public_url,
            "auth_token": auth_token, "account_sid": account_sid, "to": to}


async def measure(port: int, recipe: dict[str, Any], pids: dict[str, int], *,
                  concurrency: int, duration: float, rate: float,
                  rate_seconds: float) -> dict[str, Any]:
    """Max throughput (closed loop), then latency at a fixed arrival rate (open loop)."""
    base = {"host": "127.0.0.1", "port": port, "recipe": recipe, "timeout": 10.0}
    closed = await run_loadgen({**base, "mode": "closed", "concurrency": concurrency,
                                "duration": duration, "warmup": 1.0,
                                "max_requests": int(duration * 6000)}, timeout=duration + 90,
                               meter=CpuMeter(pids))
    await asyncio.sleep(1.0)  # let the server drain before the open-loop run
    opened = await run_loadgen({**base, "mode": "open", "rate": rate,
                                "count": int(rate * rate_seconds)},
                               timeout=rate_seconds + 90, meter=CpuMeter(pids))
    return {"max": closed, "fixed_rate": opened}


async def run_voice_phase(gateway_port: int, gateway_url: str, auth_token: str,
                          account_sid: str, to: str, stack_pids: dict[str, int], *,
                          concurrency: int = 32, duration: float = 5.0, rate: float = 100.0,
                          rate_seconds: float = 10.0) -> dict[str, Any]:
    """The whole comparison; the bare app runs only for its own measurement."""
    with bare_app() as (port, pid):
        bare = await measure(port, voice_recipe(f"http://127.0.0.1:{port}", auth_token,
                                                account_sid, to),
                             {"bare": pid}, concurrency=concurrency, duration=duration,
                             rate=rate, rate_seconds=rate_seconds)
    stack = await measure(gateway_port, voice_recipe(gateway_url, auth_token, account_sid, to),
                          {k: v for k, v in stack_pids.items() if k in ("gateway", "intake")},
                          concurrency=concurrency, duration=duration, rate=rate,
                          rate_seconds=rate_seconds)
    ratio = 0.0
    with contextlib.suppress(ZeroDivisionError):
        ratio = stack["max"]["rps"] / bare["max"]["rps"]
    return {"bare": bare, "stack": stack, "ratio": round(ratio, 3),
            "concurrency": concurrency, "rate": rate}
