"""The load generator, run in a process of its own: `python -m bench.loadgen < spec.json`.

Two ways to load a server, both with requests built before the clock starts:

- **closed** (max throughput): `concurrency` connections, each sending its next request as soon
  as the last is answered, for `duration` seconds after `warmup`; counts answers per second.
- **open** (fixed arrival rate): request *i* is due at `start + i / rate` whatever happened to
  the others; its latency runs from that due time, so a slow server cannot hide its queue
  (no coordinated omission). Connections are reused when idle and opened when none is.

The answer (JSON on stdout) also says how much CPU the generator itself used, so a run can
show the generator was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
import uuid
from collections import Counter
from typing import Any

from bench.httpclient import Connection, HttpError, build_request
from bench.recipes import build_requests


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean (nearest rank) of `values`, in the unit given."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(p / 100 * len(ordered) + 0.5) - 1))]

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1],
            "mean": sum(ordered) / len(ordered), "n": len(ordered)}


def clock() -> float:
    """Seconds, sub-millisecond (uvloop's `loop.time()` ticks in whole milliseconds)."""
    return time.perf_counter()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_closed(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    """Max throughput at a fixed number of connections."""
    host, port, timeout = spec["host"], spec["port"], spec.get("timeout", 10.0)
    warmup, duration = spec.get("warmup", 1.0), spec["duration"]
    start = clock()
    measure_from, stop_at = start + warmup, start + warmup + duration
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    cursor = iter(raws)
    cpu_box: list[float] = []

    async def worker() -> None:
        conn = await Connection.open(host, port)
        try:
            for raw in cursor:
                now = clock()
                if now >= stop_at:
                    return
                if now >= measure_from and not cpu_box:
                    cpu_box.append(_cpu())
                try:
                    status, _ = await conn.request(raw, timeout)
                except (HttpError, TimeoutError, OSError) as exc:
                    errors[type(exc).__name__] += 1
                    conn.close()
                    conn = await Connection.open(host, port)
                    continue
                done = clock()
                if measure_from <= now and done <= stop_at:
                    statuses[str(status)] += 1
                    latencies.append((done - now) * 1000)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
    elapsed = min(clock(), stop_at) - measure_from
    cpu_used = _cpu() - (cpu_box[0] if cpu_box else _cpu())
    completed = sum(statuses.values())
    return {"mode": "closed", "concurrency": spec["concurrency"], "duration_s": elapsed,
            "completed": completed, "rps": completed / elapsed if elapsed > 0 else 0.0,
            "statuses": dict(statuses), "errors": dict(errors),
            "latency_ms": percentiles(latencies), "exhausted": completed >= len(raws),
            "generator_cpu_share": cpu_used / elapsed if elapsed > 0 else 0.0}


async def run_open(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    """A fixed arrival rate; latency from each request's due time."""
    host, port, timeout = spec["host"], spec["port"], spec.get("timeout", 10.0)
    rate, limit = spec["rate"], spec.get("max_connections", 512)
    idle: list[Connection] = []
    open_count = 0
    slots = asyncio.Semaphore(limit)
    records: list[dict[str, Any]] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    keep_bodies = spec.get("keep_bodies", False)

    async def one(raw: bytes, due: float, due_wall: float) -> None:
        nonlocal open_count
        async with slots:
            conn = None
            while idle and conn is None:
                candidate = idle.pop()
                conn = None if candidate.closed else candidate
            try:
                if conn is None:
                    conn = await Connection.open(host, port)
                    open_count += 1
                status, body = await conn.request(raw, timeout)
            except (HttpError, TimeoutError, OSError) as exc:
                errors[type(exc).__name__] += 1
                if conn is not None:
                    conn.close()
                records.append({"due": due_wall, "status": None, "error": type(exc).__name__})
                return
            latency = (clock() - due) * 1000
            idle.append(conn)
        statuses[str(status)] += 1
        latencies.append(latency)
        record: dict[str, Any] = {"due": due_wall, "status": status, "ms": latency}
        if keep_bodies:
            record["body"] = body.decode("utf-8", "replace")
        records.append(record)

    start, start_wall = clock() + 0.05, time.time() + 0.05
    cpu0 = _cpu()
    tasks: list[asyncio.Task[None]] = []
    for i, raw in enumerate(raws):
        due = start + i / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, due, start_wall + i / rate)))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    for conn in idle:
        conn.close()
    out: dict[str, Any] = {
        "mode": "open", "rate": rate, "sent": len(raws), "duration_s": elapsed,
        "statuses": dict(statuses), "errors": dict(errors), "connections": open_count,
        "latency_ms": percentiles(latencies),
        "generator_cpu_share": (_cpu() - cpu0) / elapsed if elapsed > 0 else 0.0}
    if spec.get("keep_records", False):
        out["records"] = records
    return out


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the requests, then run the load the spec asks for."""
    host, port = spec["host"], spec["port"]
    count = spec["count"] if spec["mode"] == "open" else spec.get("max_requests", 50_000)
    seed = spec.get("seed") or uuid.uuid4().hex[:8]
    method = spec["recipe"].get("method", "POST")
    raws = [build_request(method, host, port, path, headers, body)
            for path, headers, body in build_requests(spec["recipe"], count, seed)]
    print("go", flush=True)  # the driver starts its CPU meters now
    if spec["mode"] == "open":
        return await run_open(spec, raws)
    return await run_closed(spec, raws)


def main() -> None:
    spec = json.load(sys.stdin)
    factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        print(json.dumps(runner.run(main_async(spec))))


if __name__ == "__main__":
    main()
