"""Voice webhook: the bare FastAPI app (the limit of the stack) against `POST /twilio/voice`
through gateway → intake, with the same generator, connections and machine."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.procs import CpuMeter, bare_process, run_loadgen
from tests.support.twilio import free_port


@contextmanager
def bare_app() -> Iterator[tuple[int, int]]:
    """The bare endpoint in its own uvicorn process; yields (port, pid)."""
    port = free_port()
    with bare_process("bench.bare", port, "--port", str(port)) as running:
        yield running


def voice_recipe(public_url: str, auth_token: str, account_sid: str, to: str) -> dict[str, Any]:
    return {"kind": "voice", "path": "/twilio/voice", "public_url": public_url,
            "auth_token": auth_token, "account_sid": account_sid, "to": to}


async def _closed(port: int, recipe: dict[str, Any], pids: dict[str, int], *,
                  concurrency: int, duration: float) -> dict[str, Any]:
    """Max throughput: `concurrency` connections, each sending again once answered."""
    return await run_loadgen({"host": "127.0.0.1", "port": port, "recipe": recipe,
                              "timeout": 10.0, "mode": "closed", "concurrency": concurrency,
                              "duration": duration, "warmup": 1.0,
                              "max_requests": int(duration * 6000)},
                             timeout=duration + 90, meter=CpuMeter(pids))


async def _open(port: int, recipe: dict[str, Any], pids: dict[str, int], *, rate: float,
                seconds: float) -> dict[str, Any]:
    """Latency at a fixed arrival rate (open loop)."""
    await asyncio.sleep(1.0)  # let the server drain first
    return await run_loadgen({"host": "127.0.0.1", "port": port, "recipe": recipe,
                              "timeout": 10.0, "mode": "open", "rate": rate,
                              "count": int(rate * seconds)},
                             timeout=seconds + 90, meter=CpuMeter(pids))


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median throughput, with every round's figure beside it."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return {**ordered[len(ordered) // 2], "rounds_rps": [round(r["rps"], 1) for r in runs]}


async def run_voice_phase(gateway_port: int, gateway_url: str, auth_token: str,
                          account_sid: str, to: str, stack_pids: dict[str, int], *,
                          concurrency: int = 32, duration: float = 5.0, rate: float = 100.0,
                          rate_seconds: float = 10.0, rounds: int = 3) -> dict[str, Any]:
    """The whole comparison. The maximum-throughput runs alternate, bare then stack, `rounds`
    times, and each side's median round counts: this machine's speed drifts between runs, and
    alternating keeps the drift out of the ratio. The bare app idles while the stack runs."""
    stack_recipe = voice_recipe(gateway_url, auth_token, account_sid, to)
    pids = {k: v for k, v in stack_pids.items() if k in ("gateway", "intake")}
    with bare_app() as (port, pid):
        bare_recipe = voice_recipe(f"http://127.0.0.1:{port}", auth_token, account_sid, to)
        bare_runs: list[dict[str, Any]] = []
        stack_runs: list[dict[str, Any]] = []
        for _ in range(rounds):
            bare_runs.append(await _closed(port, bare_recipe, {"bare": pid},
                                           concurrency=concurrency, duration=duration))
            stack_runs.append(await _closed(gateway_port, stack_recipe, pids,
                                            concurrency=concurrency, duration=duration))
        bare = {"max": _median_run(bare_runs),
                "fixed_rate": await _open(port, bare_recipe, {"bare": pid}, rate=rate,
                                          seconds=rate_seconds)}
    stack = {"max": _median_run(stack_runs),
             "fixed_rate": await _open(gateway_port, stack_recipe, pids, rate=rate,
                                       seconds=rate_seconds)}
    ratio = 0.0
    with contextlib.suppress(ZeroDivisionError):
        ratio = stack["max"]["rps"] / bare["max"]["rps"]
    return {"bare": bare, "stack": stack, "ratio": round(ratio, 3),
            "concurrency": concurrency, "rate": rate, "rounds": rounds}
