"""The key worker's two desk pages through the gateway, beside a bare endpoint (issue 14 item 8).

    python -m bench.desk [--seconds 5] [--concurrency 8] [--json]

starts `livewell run` (tests/support/stack.py) on a fresh PostgreSQL database (dropped
afterwards), adds a key worker through the staff API and signs them in as a browser would
(invitation, authenticator code, password: the session cookie and nothing else), then fills
each service's own tables through its models: 10,000 referrals in referral (with the
person's earlier ones), a handoff for each in notify, and the person with 200 earlier contacts
in intake (beside 10,000 other people's). It times

- the handoff page, `GET /desk/h/<reference>`: gateway (session) → desk → notify;
- the person page, `GET /desk/r/<reference>`: gateway → desk → referral (the referral in full,
  notes, earlier referrals) and intake (the 200 contacts; intake asks referral whether this
  key worker holds the person);

each beside a bare endpoint answering a constant page of the same size (its own process,
served as the services are): one request at a time (the goal: p95 ≤ 100 ms) and
`--concurrency` at a time (throughput), with the load generator of `make bench`.
`make bench` runs the same measure on its own stack (`run_desk_phase`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bench.procs import CpuMeter, bare_process, run_loadgen
from bench.seeding import insert_rows
from gateway.identity.sessions import COOKIE
from services.common.serve import serve
from services.common.settings import ServiceName
from services.intake import models as intake
from services.notify import models as notify
from services.referral import models as referral
from tests.support.databases import fresh_pg_database
from tests.support.stack import Stack, running_stack
from tests.support.twilio import free_port

REFERRALS, CONTACTS, EARLIER, OTHER_CONTACTS = 10_000, 200, 5, 10_000
GOAL_P95_MS = 100.0
RESULTS = Path(__file__).parent / "results"
BENCH_ENV = {"LIVEWELL_TEST_CLOCK": "0", "LIVEWELL_LOG_LEVEL": "WARNING"}


def say(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def _id() -> str:
    return str(uuid.uuid4())


# --- seeding --------------------------------------------------------------------------------

def _referral(i: int, at: datetime, **over: Any) -> dict[str, Any]:
    """A referral long dealt with (closed or contacted, due later): nothing on the stack's
    timers (SLA alerts, re-offers) picks it up while the benchmark runs."""
    row = {"id": _id(), "reference": f"LW-{i:04d}-DESK", "org": "Bench Police",
           "source": "partner", "external_reference": None,
           "subject": {"given_name": "Bench", "family_name": f"Person{i}"},
           "reason": "Benchmark referral.", "needs": ["isolation"],
           "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                    "safeguarding": False}, "consent": {"subject_informed": True},
           "referrer": {"name": "Bench Referrer", "role": "Police officer"},
           "requested_urgency": "routine", "urgency": "routine",
           "respond_by": at + timedelta(days=30), "sla_alert_at": at + timedelta(days=29),
           "locality": "north", "team": "hub", "rules_version": "bench", "route_reasons": [],
           "status": "closed" if i % 3 else "contacted", "status_at": at,
           "outcome": "supported" if i % 3 else None, "person_id": _id(), "contact_id": None,
           "keyworker_id": _id(), "accepted_at": at, "sla_alerted_at": None,
           "breached_at": None, "created_at": at, "updated_at": at}
    row.update(over)
    return row


def _handoff(r: dict[str, Any], i: int, now: datetime, **over: Any) -> dict[str, Any]:
    row = {"id": _id(), "handoff_key": f"bench-desk:{r['id']}", "referral_id": r["id"],
           "reference": r["reference"], "urgency": r["urgency"], "respond_by": r["respond_by"],
           "keyworker_id": r["keyworker_id"], "phone": f"+4474009{i % 10**5:05d}",
           "email": None, "offer": 1, "reply_code": f"B{i:05d}", "code_expires_at": now,
           "status": "accepted", "policy_version": "bench", "created_at": r["created_at"],
           "updated_at": r["created_at"], "closed_at": r["created_at"]}
    row.update(over)
    return row


def rows(keyworker_id: str, now: datetime) -> tuple[dict[ServiceName, dict[Any, list[Any]]],
                                                      str, str]:
    """Every service's rows, the person page's reference and the handoff page's."""
    rng = random.Random(14)
    person_id = _id()
    ago = [now - timedelta(minutes=rng.uniform(60, 60 * 24 * 365)) for _ in range(REFERRALS)]
    refs = [_referral(i, ago[i]) for i in range(REFERRALS)]
    subject = {"given_name": "Bench", "family_name": "Held", "phone": "+447700900123",
               "email": "bench-held@example.org", "preferred_language": "en",
               "postcode": "SW2 1AA"}
    for i in range(EARLIER):  # the person's earlier referrals, one with this worker
        refs[i + 1].update(person_id=person_id, subject=subject,
                           keyworker_id=keyworker_id if i == 0 else refs[i + 1]["keyworker_id"])
    held, offered = refs[0], refs[EARLIER + 1]
    held.update(person_id=person_id, subject=subject, keyworker_id=keyworker_id,
                status="accepted", outcome=None, urgency="urgent", created_at=now,
                respond_by=now + timedelta(hours=24), sla_alert_at=now + timedelta(hours=18))
    offered.update(status="assigned", outcome=None, urgency="urgent", keyworker_id=keyworker_id,
                   accepted_at=None, created_at=now, respond_by=now + timedelta(hours=24),
                   sla_alert_at=now + timedelta(hours=18))
    handoffs = [_handoff(r, i, now) for i, r in enumerate(refs)]
    handoffs[EARLIER + 1].update(status="open", closed_at=None,
                                 code_expires_at=now + timedelta(hours=12))
    notes = [{"id": _id(), "referral_id": held["id"], "kind": kind, "text": text,
              "org": "Bench Police", "created_at": now}
             for kind, text in (("information", "Lives with a friend for now."),
                                ("attempt", "no_answer"), ("note", "Try after 6pm."))]
    person = {"id": person_id, "given_name": "Bench", "family_name": "Held",
              "date_of_birth": None, "postcode": "SW2 1AA", "merged_into": None,
              "created_at": now - timedelta(days=400), "updated_at": now}

    def contact(n: int, owner: str | None) -> dict[str, Any]:
        at = now - timedelta(minutes=rng.uniform(60, 60 * 24 * 365))
        channel = ("voice", "sms", "email")[n % 3]
        return {"id": _id(), "channel": channel, "external_id": f"bench-desk-{n}",
                "person_id": owner, "from_address": f"+4477009{n % 10**5:05d}",
                "from_raw": None, "from_verified": True, "reference": None, "ivr_choice": None,
                "outcome": "callback" if channel == "voice" else None, "crisis": False,
                "subject": None, "body": None if channel == "voice" else "Benchmark message.",
                "recording_url": None, "reply": None, "ack_message_id": None,
                "answered_at": None, "created_at": at, "updated_at": at}

    contacts = [contact(n, person_id) for n in range(CONTACTS)]
    contacts += [contact(CONTACTS + n, None) for n in range(OTHER_CONTACTS)]
    data: dict[ServiceName, dict[Any, list[Any]]] = {
        "referral": {referral.Referral: refs, referral.ReferralNote: notes},
        "notify": {notify.Handoff: handoffs},
        "intake": {intake.Person: [person], intake.Contact: contacts}}
    return data, held["reference"], offered["reference"]


async def seed(database_url: str, keyworker_id: str) -> tuple[str, str]:
    """Insert the rows through each service's models; (person page's, handoff page's)."""
    data, held, offered = rows(keyworker_id, datetime.now(UTC))
    await insert_rows(database_url, data)
    return held, offered


# --- the key worker, signed in --------------------------------------------------------------

def signed_in_key_worker(stack: Stack) -> tuple[str, str]:
    """A key worker on the roster (serving nowhere, so never offered a real referral) and
    their session cookie, from the invitation as a browser enrols: (keyworker id, cookie)."""
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        made = http.post("/api/v1/keyworkers", headers=stack.auth("Bench Hub", "staff"), json={
            "name": "Bench Desk Worker", "phone": "+447400900001", "localities": [],
            "teams": [], "skills": [], "max_caseload": 1})
        made.raise_for_status()
        keyworker_id = str(made.json()["id"])
    out = subprocess.run(
        [sys.executable, "-m", "livewell", "staff", "invite", "--email",
         f"bench-desk-{uuid.uuid4().hex[:6]}@hub.example", "--role", "key_worker",
         "--keyworker-id", keyworker_id], env=stack.env, cwd=stack.var_dir.parent,
        check=True, capture_output=True, timeout=60)
    url = out.stdout.decode().strip().splitlines()[-1]
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        page = client.get(url)
        page.raise_for_status()
        secret = re.search(r'id="totp-secret">([^<]+)<', page.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert secret and csrf, "the invitation page changed"
        done = client.post(url, data={
            "csrf_token": csrf.group(1), "password": "a long bench password",
            "code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()})
        assert done.status_code in (200, 303), done.status_code
        cookie = client.cookies.get(COOKIE)
    assert cookie, "no session cookie after enrolling"
    return keyworker_id, cookie


# --- the bare endpoint ----------------------------------------------------------------------

def create_bare_app(sizes: dict[str, int]) -> FastAPI:
    """The desk's two paths, each answering a constant page of the size the desk's has."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    for prefix, size in sizes.items():
        body = "<!DOCTYPE html><html lang='en'><body>" + "x" * size + "</body></html>"

        async def page(reference: str, body: str = body) -> HTMLResponse:
            return HTMLResponse(body, headers={"Cache-Control": "no-store"})

        app.add_api_route(f"/desk/{prefix}/{{reference}}", page, methods=["GET"])
    return app


@contextmanager
def bare_desk(sizes: dict[str, int]) -> Iterator[tuple[int, int]]:
    """The bare endpoint in its own process; yields (port, pid)."""
    port = free_port()
    with bare_process("bench.desk", port, "--bare", str(port),
                      "--sizes", json.dumps(sizes)) as running:
        yield running


# --- measuring ------------------------------------------------------------------------------

async def _closed(port: int, path: str, cookie: str, pids: dict[str, int], concurrency: int,
                  seconds: float) -> dict[str, Any]:
    recipe = {"kind": "page", "method": "GET", "path": path,
              "headers": {"Cookie": f"{COOKIE}={cookie}"}}
    return await run_loadgen({"host": "127.0.0.1", "port": port, "recipe": recipe,
                              "timeout": 10.0, "mode": "closed", "concurrency": concurrency,
                              "duration": seconds, "warmup": 1.0,
                              "max_requests": int(seconds * 5000) + 100},
                             timeout=seconds + 90, meter=CpuMeter(pids))


def _brief(run: dict[str, Any]) -> dict[str, Any]:
    lat = run.get("latency_ms", {})
    return {"rps": round(run["rps"], 1), "p50_ms": round(lat.get("p50", 0.0), 1),
            "p95_ms": round(lat.get("p95", 0.0), 1), "max_ms": round(lat.get("max", 0.0), 1),
            "completed": run["completed"], "statuses": run["statuses"],
            "errors": run["errors"], "server_cpu_share": run.get("server_cpu_share")}


async def measure_pages(gateway_port: int, stack_pids: dict[str, int], cookie: str,
                        pages: dict[str, str], sizes: dict[str, int], *, seconds: float,
                        concurrency: int) -> list[dict[str, Any]]:
    """Each page one at a time and `concurrency` at a time, the bare endpoint first."""
    out = []
    with bare_desk(sizes) as (port, pid):
        for name, path in pages.items():
            row: dict[str, Any] = {"page": name, "path": path.rsplit("/", 1)[0] + "/<reference>"}
            for side, target, pids in (("bare", port, {"bare": pid}),
                                       ("stack", gateway_port, stack_pids)):
                row[side] = {
                    "one": _brief(await _closed(target, path, cookie, pids, 1, seconds)),
                    "many": _brief(await _closed(target, path, cookie, pids, concurrency,
                                                 seconds))}
            p95 = row["stack"]["one"]["p95_ms"]
            row["met"] = p95 <= GOAL_P95_MS and set(row["stack"]["one"]["statuses"]) == {"200"}
            out.append(row)
    return out


def markdown(rows: list[dict[str, Any]], concurrency: int) -> str:
    lines = ["| page | p95 one at a time, bare / through the gateway (goal ≤ 100 ms) | "
             f"req/s {concurrency} at a time, bare / gateway | p95 {concurrency} at a time, "
             "gateway | met |", "|---|---|---|---|---|"]
    for r in rows:
        b, s = r["bare"], r["stack"]
        lines.append(f"| {r['page']} `{r['path']}` | {b['one']['p95_ms']:.1f} / "
                     f"{s['one']['p95_ms']:.1f} ms | {b['many']['rps']:.0f} / "
                     f"{s['many']['rps']:.0f} | {s['many']['p95_ms']:.1f} ms | "
                     f"{'yes' if r['met'] else '**no**'} |")
    return "\n".join(lines)


async def run_desk_phase(stack: Stack, database_url: str, pids: dict[str, int], *,
                         seconds: float = 4.0, concurrency: int = 8) -> dict[str, Any]:
    """`make bench`'s desk phase on its running stack (PostgreSQL): seed, sign in, measure."""
    keyworker_id, cookie = await asyncio.to_thread(signed_in_key_worker, stack)
    say(f"desk: seeding {REFERRALS} referrals, a person with {CONTACTS} earlier contacts")
    held, offered = await seed(database_url, keyworker_id)
    pages = {"handoff": f"/desk/h/{offered}", "person": f"/desk/r/{held}"}
    sizes = {}
    async with httpx.AsyncClient(base_url=stack.gateway_url, cookies={COOKIE: cookie},
                                 timeout=30) as http:
        for name, path in pages.items():
            resp = await http.get(path)
            assert resp.status_code == 200, (path, resp.status_code)
            if name == "person":  # the story is on the page: 200 contacts, earlier referrals
                assert resp.text.count("Benchmark message.") >= CONTACTS // 3, "no story"
            sizes[path.split("/")[2]] = len(resp.content)
    stack_pids = {n: p for n, p in pids.items()
                  if n in ("gateway", "desk", "referral", "intake", "notify")}
    rows_ = await measure_pages(stack.ports["gateway"], stack_pids, cookie, pages, sizes,
                                seconds=seconds, concurrency=concurrency)
    return {"referrals": REFERRALS, "contacts": CONTACTS, "earlier_referrals": EARLIER,
            "page_bytes": sizes, "goal_p95_ms": GOAL_P95_MS, "pages": rows_,
            "concurrency": concurrency, "table": markdown(rows_, concurrency)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with fresh_pg_database() as url, tempfile.TemporaryDirectory(prefix="bench-desk-") as tmp, \
            running_stack(url, Path(tmp), extra_env=BENCH_ENV) as stack:
        pids = {n: c["pid"] for n, c in stack.processes()["children"].items()}
        return await run_desk_phase(stack, url, pids, seconds=args.seconds,
                                    concurrency=args.concurrency)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.desk", description=__doc__)
    p.add_argument("--bare", type=int, metavar="PORT", help="serve the bare endpoint only")
    p.add_argument("--sizes", default="{}", help="with --bare: page bytes per path prefix")
    p.add_argument("--seconds", type=float, default=5.0, help="per measured run")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = p.parse_args(argv)
    if args.bare:
        serve(create_bare_app({k: int(v) for k, v in json.loads(args.sizes).items()}),
              args.bare)
        return 0
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "desk.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, default=str) if args.json else result["table"])
    return 0 if all(r["met"] for r in result["pages"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
