"""Hub board benchmark: the board through the gateway with 5,000 referrals waiting, 2,000
open callbacks and 500 open alerts.

    python -m bench.board [--requests 200] [--concurrency 1] [--json]

starts `livewell run` (tests/support/stack.py) on a fresh PostgreSQL database (dropped
afterwards), fills each service's own tables through its models, signs a coordinator in as
a browser would (invitation, authenticator code, password: the session cookie and nothing
else), and times `GET /desk/board`: the gateway checks the session and forwards to the desk,
which asks intake, referral, notify and keyperson at once and renders every lane. Goal:
p95 ≤ 200 ms. Run it alone, not inside `make bench`: it starts its own stack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp

from bench.seeding import insert_rows
from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN, H_PERSON_ID, H_PERSON_ROLE
from services.common.settings import ServiceName
from services.intake import models as intake
from services.notify import models as notify
from services.referral import models as referral
from tests.support.databases import fresh_pg_database
from tests.support.stack import INTERNAL_TOKEN, Stack, running_stack

REFERRALS, CALLBACKS, ALERTS = 5_000, 2_000, 500
GOAL_P95_MS = 200.0
URGENCIES = {"emergency": 1, "very_urgent": 4, "urgent": 24, "routine": 168}
RISKS = (("crisis", 0), ("high", 1), ("medium", 2), ("routine", 3))
KINDS = ("sla_at_risk", "sla_breached", "nobody_fits", "send_failed", "worker_stopped",
         "crisis", "no_answer")


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def _id() -> str:
    return str(uuid.uuid4())


def rows(rng: random.Random, now: datetime) -> dict[ServiceName, dict[Any, list[Any]]]:
    refs: list[dict[str, Any]] = []
    for i in range(REFERRALS):
        at = now - timedelta(minutes=rng.uniform(1, 600))
        urgency = rng.choice(tuple(URGENCIES))
        due = at + timedelta(hours=URGENCIES[urgency])
        refs.append({
            "id": _id(), "reference": f"LW-{i:04d}-BNCH",
            "org": "Bench Police", "source": "partner", "external_reference": None,
            "subject": None, "reason": None, "needs": [], "risk": {}, "consent": None,
            "referrer": None, "requested_urgency": urgency, "urgency": urgency,
            "respond_by": due, "sla_alert_at": at + (due - at) * 0.75,
            "locality": rng.choice(("north", "south_west", "south_east")), "team": "hub",
            "rules_version": "bench", "route_reasons": [],
            "status": rng.choice(("routed", "assigned", "declined", "reassigned")),
            "status_at": at, "outcome": None, "person_id": None, "contact_id": None,
            "keyworker_id": None, "accepted_at": None, "sla_alerted_at": None,
            "breached_at": None, "created_at": at, "updated_at": at})
    contacts, callbacks = [], []
    for i in range(CALLBACKS):
        at = now - timedelta(minutes=rng.uniform(1, 600))
        risk, rank = rng.choice(RISKS)
        contact = {"id": _id(), "channel": "voice", "external_id": f"bench-board-{i}",
                   "person_id": None, "from_address": f"+4477009{rng.randrange(10**5):05d}",
                   "from_raw": None, "from_verified": True, "reference": None,
                   "ivr_choice": None, "outcome": None, "crisis": False, "subject": None,
                   "body": None, "recording_url": None, "reply": None,
                   "ack_message_id": None, "created_at": at, "updated_at": at}
        contacts.append(contact)
        callbacks.append({"id": _id(), "contact_id": contact["id"], "person_id": None,
                          "channel": "voice", "reason": "missed_call", "risk": risk,
                          "risk_rank": rank, "reference": None,
                          "due_at": at + timedelta(hours=4), "status": "open", "attempts": 0,
                          "created_at": at, "closed_at": None})
    alerts = [{"id": _id(), "alert_key": f"bench:{i}", "kind": rng.choice(KINDS),
               "reference": refs[i]["reference"], "referral_id": refs[i]["id"],
               "handoff_id": None, "urgency": refs[i]["urgency"],
               "respond_by": refs[i]["respond_by"], "recipients": 1,
               "created_at": now - timedelta(minutes=rng.uniform(1, 600)),
               "acknowledged_at": None, "acknowledged_by": None} for i in range(ALERTS)]
    return {"referral": {referral.Referral: refs},
            "intake": {intake.Contact: contacts, intake.Callback: callbacks},
            "notify": {notify.Alert: alerts}}


async def seed(database_url: str) -> None:
    await insert_rows(database_url, rows(random.Random(15), datetime.now(UTC)))


def signed_in_coordinator(stack: Stack) -> httpx.Client:
    """A coordinator's browser: invited, enrolled with a TOTP code and a password."""
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email",
         f"bench-{uuid.uuid4().hex[:6]}@hub.example", "--role", "coordinator"],
        env=stack.env, cwd=stack.var_dir.parent, check=True, capture_output=True, timeout=60)
    url = out.stdout.decode().strip().splitlines()[-1]
    client = httpx.Client(base_url=stack.gateway_url, timeout=30)
    page = client.get(url)
    page.raise_for_status()
    secret = re.search(r'id="totp-secret">([^<]+)<', page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert secret and csrf, "the invitation page changed"
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    done = client.post(url, data={"csrf_token": csrf.group(1), "code": code,
                                  "password": "a long bench password"})
    assert done.status_code in (200, 303), done.text[:300]
    return client


async def timed(stack: Stack, cookies: httpx.Cookies, requests: int,
                concurrency: int) -> list[float]:
    out: list[float] = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, cookies=cookies,
                                 timeout=30) as client:
        async def one() -> None:
            started = time.perf_counter()
            resp = await client.get("/desk/board")
            out.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200 and "Hub board" in resp.text, resp.status_code

        for _ in range(5):  # warm: connections, caches, query plans
            await one()
        out.clear()
        for start in range(0, requests, concurrency):
            await asyncio.gather(*(one() for _ in range(min(concurrency,
                                                              requests - start))))
    return out


PARTS = (("intake", "/api/v1/desk/board/callbacks?limit=25"),
         ("referral", "/api/v1/desk/board/referrals?limit=25"),
         ("notify", "/api/v1/desk/board?limit=25"), ("keyperson", "/api/v1/desk/board"))


def parts(stack: Stack, rounds: int = 20) -> dict[str, float]:
    """Each service's part alone, asked as the desk asks (median ms): where the time goes."""
    headers = {H_INTERNAL_TOKEN: INTERNAL_TOKEN, H_ACTOR_KIND: "person",
               H_PERSON_ID: "bench", H_PERSON_ROLE: "coordinator"}
    out = {}
    with httpx.Client(timeout=30, headers=headers) as client:
        for service, path in PARTS:
            ms = []
            for _ in range(rounds):
                started = time.perf_counter()
                client.get(stack.service_url(service) + path).raise_for_status()
                ms.append((time.perf_counter() - started) * 1000)
            out[service] = round(statistics.median(ms), 1)
    return out


def measure(requests: int, concurrency: int) -> dict[str, Any]:
    with fresh_pg_database() as url, tempfile.TemporaryDirectory() as tmp, \
            running_stack(url, Path(tmp), extra_env={"LIVEWELL_TEST_CLOCK": "0",
                                                     "LIVEWELL_LOG_LEVEL": "WARNING"}) as stack:
        say(f"seeding {REFERRALS} referrals waiting, {CALLBACKS} callbacks, {ALERTS} alerts")
        asyncio.run(seed(url))
        client = signed_in_coordinator(stack)
        board = client.get("/desk/board")
        assert f"{REFERRALS} waiting" in board.text, board.text[:500]
        say(f"{requests} boards, {concurrency} at a time")
        ms = sorted(asyncio.run(timed(stack, client.cookies, requests, concurrency)))
        alone = parts(stack)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return {"referrals": REFERRALS, "callbacks": CALLBACKS, "alerts": ALERTS,
            "requests": len(ms), "concurrency": concurrency,
            "median_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1),
            "max_ms": round(ms[-1], 1), "parts_median_ms": alone,
            "goal_p95_ms": GOAL_P95_MS, "met": p95 <= GOAL_P95_MS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = p.parse_args(argv)
    result = measure(args.requests, args.concurrency)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"Hub board with {REFERRALS} referrals, {CALLBACKS} callbacks, {ALERTS} alerts: "
              f"p95 {result['p95_ms']} ms, median {result['median_ms']} ms over "
              f"{result['requests']} ({args.concurrency} at a time; goal p95 ≤ "
              f"{GOAL_P95_MS:.0f} ms: {'met' if result['met'] else 'NOT met'}); each service "
              f"alone, median ms: {result['parts_median_ms']}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
