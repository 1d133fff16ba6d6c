"""Monthly figures benchmark: the report for a month of 20,000 contacts and 5,000 referrals.

    python -m bench.figures [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--json]

creates a fresh PostgreSQL database (dropped afterwards; with `DATABASE_URL` set, as
`python -m bench` runs it, that database is used), migrates the four services into it, fills
each service's own tables through its models (a busy month plus the month before it), serves
the four services on 127.0.0.1, and times what `livewell report` and the report API do: ask
the four for their parts over HTTP and compose them. Goal: ≤ 2 s (the slowest of the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert

from bench.procs import json_run_on_fresh_database
from services.common.db import Database
from services.common.figures import Month
from services.common.figures_api import gather
from services.common.http import ServiceClient
from services.common.migrations import upgrade
from services.common.settings import ServiceName, Settings
from services.intake import models as intake
from services.keyperson import models as keyperson
from services.notify import models as notify
from services.referral import models as referral
from tests.support.databases import PG_ADMIN_URL, fresh_pg_database
from tests.support.twilio import free_port

MONTH = Month(2026, 10)
CONTACTS, REFERRALS = 20_000, 5_000
SERVICES: tuple[ServiceName, ...] = ("intake", "referral", "notify", "keyperson")
ORGS = (None, "Lambeth Police", "Lambeth Housing", "King's College Hospital", "GP Brixton",
        "South London and Maudsley", "Citizens Advice", "Lambeth Council")
URGENCIES = {"emergency": 1, "very_urgent": 4, "urgent": 24, "routine": 168}
CHANNELS = ("voice",) * 4 + ("sms",) * 3 + ("email",) * 2 + ("web",)
GOAL_SECONDS = 2.0


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def _at(rng: random.Random, month: Month) -> datetime:
    span = (month.end - month.start).total_seconds()
    return month.start + timedelta(seconds=rng.uniform(0, span - 1))


def _id() -> str:
    return str(uuid.uuid4())


def intake_rows(rng: random.Random, people: list[str]) -> dict[Any, list[dict[str, Any]]]:
    before = Month(MONTH.year, MONTH.month - 1)
    persons = [{"id": p, "given_name": None, "family_name": None, "date_of_birth": None,
                "postcode": None, "merged_into": None,
                "created_at": _at(rng, MONTH if i % 3 else before),
                "updated_at": MONTH.start} for i, p in enumerate(people)]
    contacts = []
    for i in range(CONTACTS + CONTACTS // 5):  # a fifth more in the month before
        at = _at(rng, MONTH if i < CONTACTS else before)
        channel = rng.choice(CHANNELS)
        crisis = channel == "voice" and rng.random() < 0.05
        contacts.append({
            "id": _id(), "channel": channel, "external_id": f"bench-{i}",
            "person_id": rng.choice(people) if rng.random() < 0.9 else None,
            "from_address": f"+4477009{rng.randrange(100000):05d}", "from_raw": None,
            "from_verified": True, "reference": None, "outcome": None, "crisis": False,
            "ivr_choice": "crisis" if crisis else None,
            "answered_at": at + timedelta(seconds=rng.uniform(5, 120)) if crisis else None,
            "subject": None, "body": None, "recording_url": None, "reply": None,
            "ack_message_id": None, "created_at": at, "updated_at": at})
    return {intake.Person: persons, intake.Contact: contacts}


def referral_rows(rng: random.Random, people: list[str],
                  referrals: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    rows, events = [], []
    for r in referrals:
        at, urgency = r["at"], r["urgency"]
        contacted = at + timedelta(hours=rng.uniform(0.2, 2 * URGENCIES[urgency]))
        closed = rng.random() < 0.4
        rows.append({
            "id": r["id"], "reference": r["reference"], "org": rng.choice(ORGS),
            "source": "partner", "external_reference": None, "subject": None, "reason": None,
            "needs": [], "risk": {}, "consent": None, "referrer": None,
            "requested_urgency": urgency, "urgency": urgency,
            "respond_by": at + timedelta(hours=URGENCIES[urgency]), "sla_alert_at": at,
            "locality": rng.choice(("north", "south_west", "south_east", "hub")),
            "team": "hub", "rules_version": "bench", "route_reasons": [],
            "status": "closed" if closed else "contacted",
            "status_at": contacted + timedelta(days=2) if closed else contacted,
            "outcome": rng.choice(("supported", "signposted", "withdrawn")) if closed else None,
            "person_id": r["person_id"], "contact_id": None, "keyworker_id": r["keyworker_id"],
            "accepted_at": at, "sla_alerted_at": None, "breached_at": None,
            "created_at": at, "updated_at": at})
        for event, when in (("received", at), ("accepted", at), ("contacted", contacted)):
            events.append({"referral_id": r["id"], "event": event, "status": event, "at": when,
                           "recorded_at": when, "keyworker_id": None})
    return {referral.Referral: rows, referral.ReferralEvent: events}


def notify_rows(rng: random.Random,
                referrals: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    rows = []
    for r in referrals:
        for offer in (1, 2) if rng.random() < 0.2 else (1,):
            status = "declined" if offer == 1 and rng.random() < 0.2 else "accepted"
            rows.append({
                "id": _id(), "handoff_key": f"{r['id']}:{offer}", "referral_id": r["id"],
                "reference": r["reference"], "urgency": r["urgency"], "respond_by": r["at"],
                "keyworker_id": r["keyworker_id"], "phone": "+447400900000", "email": None,
                "offer": offer, "reply_code": f"{offer}{rng.randrange(10**6):06d}",
                "code_expires_at": r["at"], "status": status, "policy_version": "bench",
                "created_at": r["at"], "updated_at": r["at"],
                "closed_at": r["at"] + timedelta(minutes=rng.uniform(1, 60))})
    return {notify.Handoff: rows}


def keyperson_rows(rng: random.Random,
                   referrals: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    rows = []
    for r in referrals:
        returning = rng.random() < 0.3
        rows.append({
            "id": _id(), "referral_id": r["id"], "reference": r["reference"],
            "person_id": r["person_id"], "keyworker_id": r["keyworker_id"],
            "status": "accepted", "attempt": 1, "via": "ranking", "cover_for": None,
            "key_person_id": (r["keyworker_id"] if rng.random() < 0.8 else _id())
            if returning else None,
            "locality": "north", "team": None, "urgency": r["urgency"],
            "respond_by": r["at"], "skills": [], "declined": [], "reasons": [],
            "candidates": [], "created_at": r["at"], "updated_at": r["at"],
            "accepted_at": r["at"], "closed_at": None})
    return {keyperson.Assignment: rows}


async def fill(settings: Settings, service: ServiceName,
               tables: dict[Any, list[dict[str, Any]]]) -> None:
    db = Database(settings, service)
    try:
        async with db.sessionmaker() as session, session.begin():
            for model, rows in tables.items():
                for start in range(0, len(rows), 5000):
                    await session.execute(insert(model), rows[start:start + 5000])
    finally:
        await db.dispose()


async def seed(settings: Settings, rng: random.Random) -> None:
    people = [_id() for _ in range(14_000)]
    workers = [_id() for _ in range(200)]
    referrals = [{"id": _id(), "reference": f"LW-B{i:07d}", "at": _at(rng, MONTH),
                  "urgency": rng.choice(tuple(URGENCIES)), "person_id": rng.choice(people),
                  "keyworker_id": rng.choice(workers)} for i in range(REFERRALS)]
    await fill(settings, "intake", intake_rows(rng, people))
    await fill(settings, "referral", referral_rows(rng, people, referrals))
    await fill(settings, "notify", notify_rows(rng, referrals))
    await fill(settings, "keyperson", keyperson_rows(rng, referrals))
    # What autovacuum would have done by the time anyone asks for a report.
    url = settings.database_url or ""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                         autocommit=True) as conn:
        conn.execute("ANALYZE")


def _factory(service: ServiceName) -> Callable[[Settings], FastAPI]:
    module = __import__(f"services.{service}.app", fromlist=["create_app"])
    factory: Callable[[Settings], FastAPI] = module.create_app
    return factory


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    """The four services on their ports, in this process."""
    servers = [uvicorn.Server(uvicorn.Config(
        _factory(s)(settings), host="127.0.0.1", port=settings.service_port(s),
        log_level="warning", lifespan="on")) for s in SERVICES]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        while not all(server.started for server in servers):
            if any(t.done() for t in tasks):
                raise RuntimeError("a service did not start")
            await asyncio.sleep(0.05)
        yield
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def measure(database_url: str, runs: int) -> dict[str, Any]:
    ports = {s: free_port() for s in SERVICES}
    values: dict[str, Any] = {f"{s}_url": f"http://127.0.0.1:{p}" for s, p in ports.items()}
    settings = Settings(_env_file=None, database_url=database_url,
                        internal_token="bench-internal-token", log_level="WARNING", **values)
    for service in SERVICES:
        upgrade(settings, service)
    say(f"seeding {CONTACTS} contacts and {REFERRALS} referrals in {MONTH}")
    started = time.perf_counter()
    await seed(settings, random.Random(16))
    seeded = time.perf_counter() - started
    timings: list[float] = []
    async with serving(settings):
        client = ServiceClient(settings, timeout=60)
        await client.start()
        try:
            for _ in range(runs):
                started = time.perf_counter()
                figures = await gather(client, MONTH)
                timings.append(time.perf_counter() - started)
        finally:
            await client.close()
    worst = max(timings)
    return {"month": str(MONTH), "contacts": sum(figures["contacts"].values()),
            "referrals": figures["referrals"]["total"],
            "people_supported": figures["people_supported"], "seed_seconds": round(seeded, 1),
            "runs": runs, "first_seconds": round(timings[0], 3),
            "median_seconds": round(statistics.median(timings), 3),
            "max_seconds": round(worst, 3), "goal_seconds": GOAL_SECONDS,
            "met": worst <= GOAL_SECONDS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.figures", description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = p.parse_args(argv)
    if os.environ.get("DATABASE_URL"):
        result = asyncio.run(measure(os.environ["DATABASE_URL"], args.runs))
    else:
        say(f"a fresh database on {PG_ADMIN_URL}")
        with fresh_pg_database() as url:
            result = asyncio.run(measure(url, args.runs))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"monthly report, {result['contacts']} contacts and {result['referrals']} "
              f"referrals: worst of {result['runs']} {result['max_seconds']:.2f} s, median "
              f"{result['median_seconds']:.2f} s (goal ≤ {GOAL_SECONDS:.0f} s: "
              f"{'met' if result['met'] else 'NOT met'})")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())


def run_for_bench(timeout: float) -> dict[str, Any]:
    """This benchmark as `python -m bench` runs it: its own process and fresh database."""
    return json_run_on_fresh_database("bench.figures", timeout)
