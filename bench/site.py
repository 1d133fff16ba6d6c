"""The website's home page and an advice page through the gateway, beside a bare endpoint
(`python -m bench.site`; issue 17: ≥ 0.5× the bare throughput, p99 ≤ 50 ms at 100 req/s).

The bare endpoint is one uvicorn process answering a constant page of the same size, served
as the services are: the limit of the stack on this machine. The stack is `livewell run` on
SQLite (the site has no database; the gateway's keys and spool are not on this path), with the
page views' per-address limit still counted but out of reach: every request comes from
127.0.0.1, and the benchmark measures the pages, not that policy. Maximum-throughput rounds
alternate bare and stack, and each side's median round counts (this machine's speed drifts
between runs); then latency at a fixed rate. Writes `bench/results/site.json` and prints a
Markdown table. `make bench` runs the same measure on its own stack (`run_site_phase`), so its
figures come from the same run as the voice webhook's bare limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bench.procs import CpuMeter, bare_process, run_loadgen
from services.common.serve import serve
from tests.support.stack import running_stack
from tests.support.twilio import free_port

RESULTS = Path(__file__).parent / "results"
PAGES = ("/", "/advice/wobbly-day")
# The page views' limit is counted as ever, only never reached: every request is from 127.0.0.1.
BENCH_ENV = {"LIVEWELL_GATEWAY_RATE_LIMIT_PUBLIC_PAGES": "100000000/minute",
             "LIVEWELL_TEST_CLOCK": "0", "LIVEWELL_LOG_LEVEL": "WARNING"}
PAGE_BYTES = 6_000  # about the size of the home page and an advice page


def create_bare_app() -> FastAPI:
    """The same paths, each answering a constant page of `PAGE_BYTES`."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    body = "<!DOCTYPE html><html lang='en'><body>" + "x" * PAGE_BYTES + "</body></html>"

    async def page() -> HTMLResponse:
        return HTMLResponse(body)

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET"])
    return app


@contextmanager
def bare_site() -> Iterator[tuple[int, int]]:
    """The bare endpoint in its own process; yields (port, pid)."""
    port = free_port()
    with bare_process("bench.site", port, "--bare", str(port)) as running:
        yield running


def _recipe(path: str) -> dict[str, Any]:
    return {"kind": "page", "method": "GET", "path": path}


async def _closed(port: int, path: str, pids: dict[str, int], concurrency: int,
                  duration: float) -> dict[str, Any]:
    return await run_loadgen({"host": "127.0.0.1", "port": port, "recipe": _recipe(path),
                              "timeout": 10.0, "mode": "closed", "concurrency": concurrency,
                              "duration": duration, "warmup": 1.0,
                              "max_requests": int(duration * 20000)},
                             timeout=duration + 90, meter=CpuMeter(pids))


async def _open(port: int, path: str, pids: dict[str, int], rate: float,
                seconds: float) -> dict[str, Any]:
    await asyncio.sleep(1.0)  # let the server drain first
    return await run_loadgen({"host": "127.0.0.1", "port": port, "recipe": _recipe(path),
                              "timeout": 10.0, "mode": "open", "rate": rate,
                              "count": int(rate * seconds)},
                             timeout=seconds + 90, meter=CpuMeter(pids))


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["rps"])
    return {**ordered[len(ordered) // 2], "rounds_rps": [round(r["rps"], 1) for r in runs]}


async def measure_page(path: str, gateway_port: int, stack_pids: dict[str, int], *,
                       rounds: int, duration: float, rate: float, seconds: float,
                       concurrency: int) -> dict[str, Any]:
    """Bare against the stack for one page: throughput (median of alternating rounds) and
    latency at `rate` requests a second."""
    with bare_site() as (port, pid):
        bare_runs, stack_runs = [], []
        for _ in range(rounds):
            bare_runs.append(await _closed(port, path, {"bare": pid}, concurrency, duration))
            stack_runs.append(await _closed(gateway_port, path, stack_pids, concurrency,
                                            duration))
        bare_fixed = await _open(port, path, {"bare": pid}, rate, seconds)
    stack_fixed = await _open(gateway_port, path, stack_pids, rate, seconds)
    bare, stack = _median(bare_runs), _median(stack_runs)
    ratio = 0.0
    with contextlib.suppress(ZeroDivisionError):
        ratio = stack["rps"] / bare["rps"]
    return {"path": path, "ratio": round(ratio, 3),
            "bare": {"max": bare, "fixed_rate": bare_fixed},
            "stack": {"max": stack, "fixed_rate": stack_fixed}}


def markdown(results: list[dict[str, Any]], rate: float) -> str:
    lines = ["| page | bare req/s | stack req/s | ratio (goal ≥ 0.5) | "
             f"stack p99 at {rate:.0f}/s (goal ≤ 50 ms) | errors |", "|---|---|---|---|---|---|"]
    for r in results:
        fixed = r["stack"]["fixed_rate"]
        errors = sum(fixed.get("errors", {}).values()) + sum(
            n for s, n in fixed.get("statuses", {}).items() if str(s) != "200")
        lines.append(f"| `{r['path']}` | {r['bare']['max']['rps']:.0f} | "
                     f"{r['stack']['max']['rps']:.0f} | {r['ratio']:.2f} | "
                     f"{fixed['latency_ms'].get('p99', float('nan')):.1f} ms | {errors} |")
    return "\n".join(lines)


async def run_site_phase(gateway_port: int, pids: dict[str, int], *, rounds: int = 2,
                         duration: float = 4.0, rate: float = 100.0, seconds: float = 8.0,
                         concurrency: int = 32) -> dict[str, Any]:
    """`make bench`'s website phase, on its running stack (whose `BENCH_ENV` lifts the page
    views' limit as `BENCH_ENV` here does): each page beside the bare endpoint."""
    stack_pids = {n: p for n, p in pids.items() if n in ("gateway", "site")}
    pages = [await measure_page(path, gateway_port, stack_pids, rounds=rounds,
                                duration=duration, rate=rate, seconds=seconds,
                                concurrency=concurrency) for path in PAGES]
    return {"pages": pages, "rate": rate, "table": markdown(pages, rate)}


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        workdir = Path(tmp)
        with running_stack(f"sqlite:///{workdir / 'livewell.db'}", workdir,
                           extra_env=BENCH_ENV) as stack:
            children = stack.processes()["children"]
            pids = {n: c["pid"] for n, c in children.items() if n in ("gateway", "site")}
            return [await measure_page(path, stack.ports["gateway"], pids, rounds=args.rounds,
                                       duration=args.duration, rate=args.rate,
                                       seconds=args.seconds, concurrency=args.concurrency)
                    for path in PAGES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bare", type=int, metavar="PORT", help="serve the bare endpoint only")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="of the fixed-rate run")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.bare:
        serve(create_bare_app(), args.bare)
        return
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "site.json").write_text(json.dumps(results, indent=2))
    print(markdown(results, args.rate))


if __name__ == "__main__":
    main()
