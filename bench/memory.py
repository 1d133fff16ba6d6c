"""`python -m bench.memory`: time to ready and idle memory of `livewell run`, alone.

Starts the real topology (`livewell run` behind the Twilio mock, as `make bench` does, with the
same settings) on a fresh PostgreSQL database, or on SQLite files with `--sqlite`, and prints
for each run:

- seconds from the supervisor's start to the gateway's `/readyz` answering 200, when the
  children were spawned and when each logged its start;
- per process, the CPU seconds it used to get ready and, after settling (3 s, as `make bench`),
  its resident set (`VmRSS`, the figure of the goal), its private part (USS: what stopping it
  would give back) and its proportional share of shared pages (PSS);
- the supervisor's own resident set (a sixth process, outside the goal's five).

Start-up times depend on the load of the machine; compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.__main__ import BENCH_ENV  # the settings of `make bench`, so the figures compare
from bench.procs import TICKS, cpu_seconds, rss_mb, smaps_mb
from tests.support.databases import fresh_pg_database
from tests.support.stack import running_stack


def started_at(pid: int) -> float:
    """When `pid` started, in seconds since the epoch (its start time in /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    return boot + ticks / TICKS


def service_started(log: str) -> dict[str, float]:
    """When each process logged `service.start` (epoch seconds), from the stack's JSON log."""
    out: dict[str, float] = {}
    for line in log.splitlines():
        if '"service.start"' not in line:
            continue
        with contextlib.suppress(ValueError, KeyError):
            entry = json.loads(line)
            out.setdefault(entry["service"], datetime.fromisoformat(entry["ts"]).timestamp())
    return out


@contextlib.contextmanager
def _database(sqlite: bool, work: Path) -> Iterator[str]:
    if sqlite:
        yield f"sqlite+aiosqlite:///{work / 'var' / 'livewell.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


def one_run(sqlite: bool, settle: float, extra_env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lw-memory-") as tmp, \
            _database(sqlite, Path(tmp)) as url, \
            running_stack(url, Path(tmp), extra_env={**BENCH_ENV, **extra_env}) as stack:
        ready = time.time()
        pids = {n: c["pid"] for n, c in stack.processes()["children"].items()}
        cpu = {n: round(cpu_seconds(pid), 2) for n, pid in pids.items()}
        t0 = started_at(stack.supervisor.pid)
        spawned = min(started_at(pid) for pid in pids.values()) - t0
        time.sleep(settle)
        children = stack.processes()["children"]
        restarts = {n: c["restarts"] for n, c in children.items() if c["restarts"]}
        started = {n: round(t - t0, 2) for n, t in service_started(stack.logs()).items()}
        procs = {name: {"rss": round(rss_mb(c["pid"]) or 0.0, 1), **smaps_mb(c["pid"]),
                        "cpu_at_ready": cpu[name]} for name, c in children.items()}
        return {"ready_seconds": round(ready - t0, 2), "children_spawned_at": round(spawned, 2),
                "service_started_at": started, "restarts": restarts, "processes": procs,
                "supervisor_cpu_at_ready": round(cpu_seconds(stack.supervisor.pid), 2),
                "rss_total": round(sum(p["rss"] for p in procs.values()), 1),
                "uss_total": round(sum(p["uss"] for p in procs.values()), 1),
                "supervisor_rss": round(rss_mb(stack.supervisor.pid) or 0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sqlite", action="store_true",
                   help="SQLite files instead of a fresh PostgreSQL database")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds between ready and reading memory (make bench: 3)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for `livewell run` (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON line per run")
    args = p.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.env)
    for i in range(args.runs):
        result = one_run(args.sqlite, args.settle, extra)
        result["load_before"] = round(os.getloadavg()[0], 2)
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        print(f"run {i + 1}: ready in {result['ready_seconds']:.2f} s (children spawned at "
              f"{result['children_spawned_at']:.2f} s; started: " + ", ".join(
                  f"{n} {t:.2f}" for n, t in result["service_started_at"].items()) + ")")
        print(f"  RSS {result['rss_total']:.0f} MB in all (USS {result['uss_total']:.0f} MB); "
              f"supervisor RSS {result['supervisor_rss']:.0f} MB, "
              f"CPU {result['supervisor_cpu_at_ready']:.1f} s")
        for name, m in result["processes"].items():
            print(f"  {name:<10} RSS {m['rss']:6.1f}  USS {m['uss']:6.1f}  PSS {m['pss']:6.1f} MB"
                  f"  CPU to ready {m['cpu_at_ready']:.1f} s")
        if result["restarts"]:
            print(f"  restarted while measured: {result['restarts']}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
