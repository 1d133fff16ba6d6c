"""Assignment benchmark: 2,000 key workers, 200,000 people with a key person, on PostgreSQL.

    python -m bench.assignment --pg-url postgresql://postgres@127.0.0.1:5432/postgres

creates a fresh database under that server (dropped afterwards), migrates keyperson into it,
fills it in bulk (INSERT … SELECT generate_series), then times a few hundred assignments
in-process — each one the whole transaction the route runs: continuity lookup, candidate
ranking, the atomic capacity update, the assignment row and its outbox events, the commit —
and prints JSON with p50/p95/p99 in milliseconds (goal: p99 ≤ 20 ms) and, beside them, what
a busy machine changes much less: the CPU this process spent on each assignment
(`cpu_p50_ms`) and the statements it sent (`statements_mean`). With `DATABASE_URL` set and
no `--pg-url` (as `python -m bench` runs it) that already-fresh database is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from services.common.db import Database
from services.common.migrations import upgrade
from services.common.settings import Settings
from services.keyperson import assignment
from services.keyperson.schemas import AssignmentRequest

LOCALITIES = ("north", "south_west", "south_east")
URGENCIES = ("emergency", "very_urgent", "urgent", "routine", "routine", "routine")


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create an empty database on the server of `admin_url`; drop it afterwards."""
    name = f"lw_bench_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield plain.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) \
            + "/" + name
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FILL = [
    # 2,000 workers over three localities and ten teams; every 10th speaks Polish.
    """INSERT INTO keyworker (id, name, phone, email, localities, teams, skills, max_caseload,
                              caseload, active, last_assigned_at, created_at, updated_at)
       SELECT md5('kw' || i)::uuid::text, 'Worker ' || i, '+447400' || lpad(i::text, 6, '0'),
              NULL,
              json_build_array((ARRAY['north','south_west','south_east'])[1 + i %% 3]),
              json_build_array('team_' || (i %% 10)),
              CASE WHEN i %% 10 = 0 THEN '["lang:pl"]'::json ELSE '[]'::json END,
              120, 100, true, now() - (i || ' minutes')::interval, now(), now()
       FROM generate_series(1, %(workers)s) AS i""",
    """INSERT INTO keyworker_area (kind, value, keyworker_id)
       SELECT 'locality', json_array_elements_text(localities), id FROM keyworker
       UNION ALL
       SELECT 'team', json_array_elements_text(teams), id FROM keyworker
       UNION ALL
       SELECT 'skill', json_array_elements_text(skills), id FROM keyworker""",
    # 200,000 people, each with a key person and an accepted referral (100 per worker).
    """INSERT INTO key_person (person_id, keyworker_id, since, ended_at)
       SELECT md5('p' || i)::uuid::text, md5('kw' || (1 + i %% %(workers)s))::uuid::text,
              now() - interval '30 days', NULL
       FROM generate_series(1, %(people)s) AS i""",
    """INSERT INTO assignment (id, referral_id, reference, person_id, keyworker_id, status,
                               attempt, via, cover_for, locality, team, urgency, respond_by,
                               skills, declined, reasons, candidates, created_at, updated_at,
                               accepted_at, closed_at)
       SELECT md5('a' || i)::uuid::text, md5('r' || i)::uuid::text, 'LW-BNCH-' || i,
              md5('p' || i)::uuid::text, md5('kw' || (1 + i %% %(workers)s))::uuid::text,
              'accepted', 1, 'ranking', NULL,
              (ARRAY['north','south_west','south_east'])[1 + (1 + i %% %(workers)s) %% 3],
              NULL, 'routine', now(), '[]', '[]', '[]', '[]', now() - interval '30 days',
              now(), now(), NULL
       FROM generate_series(1, %(people)s) AS i""",
    # Today's rota: every worker on a key_worker shift; a few absent.
    """INSERT INTO shift (id, keyworker_id, role, locality, team, starts_at, ends_at, created_at)
       SELECT md5('s' || i)::uuid::text, md5('kw' || i)::uuid::text,
              CASE WHEN i <= 9 THEN 'duty_coordinator' ELSE 'key_worker' END,
              (ARRAY['north','south_west','south_east'])[1 + i %% 3], NULL,
              now() - ((i %% 8) || ' hours')::interval,
              now() + ((8 - i %% 8) || ' hours')::interval, now()
       FROM generate_series(1, %(workers)s) AS i""",
    # A month of past shifts, so the rota queries run on a table with history.
    """INSERT INTO shift (id, keyworker_id, role, locality, team, starts_at, ends_at, created_at)
       SELECT md5('h' || w || '-' || d)::uuid::text, md5('kw' || w)::uuid::text, 'key_worker',
              NULL, NULL, now() - (d || ' days')::interval - interval '8 hours',
              now() - (d || ' days')::interval, now()
       FROM generate_series(1, %(workers)s) AS w, generate_series(1, 30) AS d""",
    """INSERT INTO absence (id, keyworker_id, kind, starts_at, ends_at, created_at)
       SELECT md5('ab' || i)::uuid::text, md5('kw' || (i * 37))::uuid::text, 'leave',
              now() - interval '1 day', now() + interval '6 days', now()
       FROM generate_series(1, 50) AS i""",
    "ANALYZE",
]


def fill(sync_url: str, schema: str, workers: int, people: int) -> float:
    """Bulk-load the roster, links and rota; returns the seconds it took."""
    started = time.perf_counter()
    url = make_url(sync_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, options=f"-csearch_path={schema}") as conn:
        for statement in FILL:
            conn.execute(statement,
                         {"workers": workers, "people": people})
        conn.commit()
    return time.perf_counter() - started


@dataclass
class Timed:
    """Per timed assignment: wall ms, this process's CPU ms, and statements sent."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


async def time_assignments(settings: Settings, count: int, people: int, seed: int) -> Timed:
    """Run `count` assignments one after another, each in its own transaction. Besides the
    wall time, the CPU this process spent and the statements it sent (each a round trip;
    the session adds its BEGIN and COMMIT, and the pool its pre-ping): figures that a busy
    machine does not move."""
    rnd = random.Random(seed)
    db = Database(settings, "keyperson")
    timed = Timed()
    sent = [0]

    def count_statement(*_: object) -> None:
        sent[0] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count_statement)
    try:
        for n in range(count + 20):  # the first 20 warm the pool and caches
            now = datetime.now(UTC)
            returning = rnd.random() < 0.5
            person = (str(uuid.UUID(_md5(f"p{rnd.randint(1, people)}"))) if returning
                      else str(uuid.uuid4()))
            urgency = rnd.choice(URGENCIES)
            req = AssignmentRequest(
                referral_id=str(uuid.uuid4()), reference=f"LW-B{n:03d}-TEST", person_id=person,
                locality=rnd.choice(LOCALITIES), team=f"team_{rnd.randint(0, 9)}",
                urgency=urgency, respond_by=now + timedelta(hours=4 if urgency != "routine"
                                                            else 72),
                skills=["lang:pl"] if rnd.random() < 0.2 else [])
            sent[0] = 0
            cpu = time.process_time()
            started = time.perf_counter()
            async with db.sessionmaker() as session:
                await assignment.assign(session, req, now)
                await session.commit()
            if n >= 20:
                timed.wall.append((time.perf_counter() - started) * 1000)
                timed.cpu.append((time.process_time() - cpu) * 1000)
                timed.statements.append(sent[0])
    finally:
        await db.dispose()
    return timed


async def round_trips(settings: Settings, count: int = 200) -> list[float]:
    """`SELECT 1` round trips on the same engine: the floor every statement pays here."""
    db = Database(settings, "keyperson")
    timings: list[float] = []
    try:
        async with db.engine.connect() as conn:
            for _ in range(count):
                started = time.perf_counter()
                await conn.execute(text("SELECT 1"))
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await db.dispose()
    return timings


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(database_url: str, workers: int, people: int, count: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(_env_file=None, database_url=database_url,
                            var_dir=Path(var), internal_token="bench")
        say("migrating keyperson")
        upgrade(settings, "keyperson")
        say(f"filling {workers} workers and {people} people")
        db = Database(settings, "keyperson")
        sync_url, schema = db.sync_url, db.schema or "keyperson"
        asyncio.run(db.dispose())
        fill_s = fill(sync_url, schema, workers, people)
        say(f"timing {count} assignments")
        load_before = os.getloadavg()[0]
        timed = asyncio.run(time_assignments(settings, count, people, seed))
        floor = asyncio.run(round_trips(settings))
    timings = timed.wall
    return {"benchmark": "assignment", "workers": workers, "people": people,
            "assignments": len(timings), "fill_seconds": round(fill_s, 2),
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 95), 2),
            "p99_ms": round(percentile(timings, 99), 2),
            "max_ms": round(max(timings), 2), "goal_p99_ms": 20,
            "met": percentile(timings, 99) <= 20,
            "select_1_p50_ms": round(statistics.median(floor), 3),
            "cpu_p50_ms": round(statistics.median(timed.cpu), 2),
            "statements_mean": round(statistics.mean(timed.statements), 2),
            "cpus": os.cpu_count(), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", help="admin URL of a PostgreSQL server; a fresh database "
                        "is created under it and dropped afterwards")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()
    given = os.environ.get("DATABASE_URL")
    if args.pg_url or not given:
        admin = args.pg_url or os.environ.get("LIVEWELL_TEST_PG_URL",
                                              "postgresql://postgres@127.0.0.1:5432/postgres")
        with fresh_database(admin) as url:
            result = run(url, args.workers, args.people, args.count, args.seed)
    else:
        result = run(given, args.workers, args.people, args.count, args.seed)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
