"""Partner referral → handoff SMS at the Twilio mock, at a sustained arrival rate.

Latency runs from the moment each referral was due to be sent (open loop) to the moment the
mock recorded its handoff SMS. Every accepted referral must produce exactly one SMS carrying
its reference: none is *lost*, a second is *duplicated*.

Halfway through, one emergency referral is sent beside the routine ones: the time from its
request to its first handoff SMS says whether an emergency waits behind a surge (goal 2 s).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from typing import Any

import httpx

from bench.loadgen import percentiles
from bench.procs import run_loadgen
from bench.recipes import emergency_body, referral_body

REFERENCE = re.compile(r"LW-[A-Z0-9]{4}-[A-Z0-9]{4}")
TEAMS = ["hub", "living_well_network", "ips_alliance", "crisis_duty"]
LOCALITIES = ["north", "south_west", "south_east"]


async def create_workers(http: httpx.AsyncClient, staff: dict[str, str], count: int,
                         caseload: int) -> list[str]:
    """Key workers covering every locality and team, through the staff API."""
    phones = []
    for i in range(count):
        resp = await http.post("/api/v1/keyworkers", headers=staff, json={
            "name": f"Bench Worker {i}", "phone": f"+447911{200000 + i:06d}",
            "localities": LOCALITIES, "teams": TEAMS, "skills": [], "max_caseload": caseload})
        if resp.status_code != 201:
            raise RuntimeError(f"creating a key worker failed: {resp.status_code} {resp.text}")
        phones.append(resp.json()["phone"])
    return phones


async def _handoffs(mock_url: str) -> dict[str, list[datetime]]:
    async with httpx.AsyncClient(timeout=60) as http:
        resp = await http.get(mock_url + "/_mock/messages")
        resp.raise_for_status()
    seen: dict[str, list[datetime]] = {}
    for m in resp.json():
        hit = REFERENCE.search(m["body"])
        if hit:
            seen.setdefault(hit.group(0), []).append(datetime.fromisoformat(m["created"]))
    return seen


async def warm_up(http: httpx.AsyncClient, key: str, mock_url: str) -> None:
    """One referral the whole way, so no first-request cost lands in the figures."""
    resp = await http.post("/api/v1/referrals", json=referral_body(0, "warm"),
                           headers={"Authorization": f"Bearer {key}",
                                    "Idempotency-Key": f"warm-{time.time()}"})
    resp.raise_for_status()
    ref = resp.json()["reference"]
    deadline = time.monotonic() + 60
    while ref not in await _handoffs(mock_url):
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up referral never reached a key worker")
        await asyncio.sleep(0.25)


async def _emergency(gateway_port: int, key: str,
                     after: float) -> tuple[str, float] | tuple[None, str]:
    """After `after` seconds, one emergency referral: its reference and when it was first
    sent. A 5xx or a timeout is retried with the same Idempotency-Key, as a partner would, and
    the time still runs from the first try; (None, why) if it never got in."""
    await asyncio.sleep(after)
    sent = time.time()
    body, why = emergency_body(f"{sent:.0f}"), "?"
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-emergency-{sent}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}",
                                 timeout=30) as http:
        for _ in range(5):
            try:
                resp = await http.post("/api/v1/referrals", json=body, headers=headers)
            except httpx.HTTPError as exc:
                why = type(exc).__name__
                continue
            if resp.status_code in (200, 201):
                return str(resp.json()["reference"]), sent
            why = f"http {resp.status_code}"
            if resp.status_code < 500:
                break
    return None, why


async def run_referral_phase(gateway_port: int, mock_url: str, keys: list[str], *, rate: float,
                             seconds: float, drain: float = 60.0,
                             emergency: bool = False) -> dict[str, Any]:
    """Send `rate` referrals a second for `seconds`; count and time their handoff SMS (and,
    with `emergency`, one emergency referral's, sent halfway through)."""
    count = int(rate * seconds)
    spec = {"mode": "open", "host": "127.0.0.1", "port": gateway_port, "rate": rate,
            "count": count, "timeout": 30.0, "keep_records": True, "keep_bodies": True,
            "recipe": {"kind": "referral", "path": "/api/v1/referrals", "keys": keys}}
    # The generator builds its requests first (well under a second), then sends for `seconds`.
    urgent = asyncio.create_task(_emergency(gateway_port, keys[0], 0.5 + seconds / 2)) \
        if emergency else None
    load = await run_loadgen(spec, timeout=seconds + 120)
    sent_emergency = await urgent if urgent is not None else None
    due: dict[str, float] = {}
    refused = 0
    for rec in load.pop("records"):
        if rec.get("status") in (200, 201):
            due[json.loads(rec["body"])["reference"]] = rec["due"]
        else:
            refused += 1
    deadline = time.monotonic() + drain
    while True:
        seen = await _handoffs(mock_url)
        missing = [r for r in due if r not in seen]
        if (not missing and (sent_emergency is None or sent_emergency[0] is None
                             or sent_emergency[0] in seen)) \
                or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    latencies = [(min(seen[r]).timestamp() - t) * 1000 for r, t in due.items() if r in seen]
    firsts = sorted(min(seen[r]).timestamp() for r in due if r in seen)
    span = firsts[-1] - min(due.values()) if firsts and due else 0.0
    return {
        "rate": rate, "seconds": seconds, "sent": count, "accepted": len(due),
        "refused": refused, "statuses": load["statuses"], "errors": load["errors"],
        "api_latency_ms": load["latency_ms"],
        "generator_cpu_share": load["generator_cpu_share"],
        "handoff_latency_ms": percentiles(latencies),
        "lost": len(missing), "duplicated": sum(len(seen[r]) - 1 for r in due if r in seen),
        "drain_seconds": drain,
        "handoffs_per_second": round(len(firsts) / span, 2) if span > 0 else None,
        **_emergency_result(emergency, sent_emergency, seen, min(due.values(), default=0.0)),
    }


def _emergency_result(asked: bool, sent: tuple[str, float] | tuple[None, str] | None,
                      seen: dict[str, list[datetime]], started: float) -> dict[str, Any]:
    if not asked or sent is None:
        return {}
    reference, at = sent
    if reference is None or isinstance(at, str):
        return {"emergency": {"error": f"the emergency referral was refused ({at})"}}
    first = min(seen[reference]).timestamp() if reference in seen else None
    return {"emergency": {"sent_after_s": round(at - started, 1),
                          "handoff_ms": None if first is None else (first - at) * 1000}}
