"""Fault injection against the real processes: a system per test module and backend, a bounded
stream of webhooks and referrals to run while something breaks, and the final count.

The count is the point: every referral a partner was told was accepted exists exactly once and
reaches a key worker's phone exactly once; every webhook the gateway answered with 200 is
exactly one contact. Referrals are read through the partner API, handoffs through notify's
staff API and the Twilio mock's record; contacts are counted in intake's own table by
CallSid/MessageSid (no public API lists contacts by carrier id).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.common.db import service_urls
from services.common.settings import Settings
from tests.support.databases import fresh_pg_database
from tests.support.stack import Stack, eventually, running_stack

FAULT_ENV = {
    "LIVEWELL_GATEWAY_RATE_LIMIT_KEY": "100000/minute",
    "LIVEWELL_GATEWAY_RATE_LIMIT_WEBHOOK": "100000/minute",
    # One long code sends 1 SMS a second; the count should not wait on that policy.
    "NOTIFY_SEND_RATE_PER_SECOND": "50", "NOTIFY_SEND_BURST": "20",
    # A timed-out send is reconciled quickly rather than after the production timeout.
    "NOTIFY_TWILIO_TIMEOUT_SECONDS": "2",
}
LOCALITIES = ["north", "south_west", "south_east"]
TEAMS = ["hub", "living_well_network", "ips_alliance", "crisis_duty"]


@contextlib.contextmanager
def stack_for(backend: str, workdir: Any, extra: dict[str, str] | None = None
              ) -> Iterator[Stack]:
    env = {**FAULT_ENV, **(extra or {})}
    if backend == "sqlite":
        with running_stack(f"sqlite:///{workdir / 'livewell.db'}", workdir, extra_env=env) as s:
            yield s
        return
    with fresh_pg_database() as url, running_stack(url, workdir, extra_env=env) as s:
        yield s


@pytest.fixture(scope="module")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system for this module, on SQLite or a fresh PostgreSQL database."""
    with stack_for(backend, tmp_path_factory.mktemp(f"faults-{backend}")) as s:
        yield s


async def prepare(stack: Stack, workers: int = 6) -> None:
    """Keys for a partner and staff, and key workers with room for every referral."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        for i in range(workers):
            resp = await http.post("/api/v1/keyworkers", headers=stack.auth("Fault Hub", "staff"),
                                   json={"name": f"Fault Worker {i}",
                                         "phone": f"+4479112{uuid.uuid4().int % 100_000:05d}",
                                         "localities": LOCALITIES, "teams": TEAMS,
                                         "skills": [], "max_caseload": 400})
            assert resp.status_code == 201, resp.text


def referral_body(tag: str) -> dict[str, Any]:
    return {"subject": {"given_name": "Fault", "family_name": f"Person {tag}",
                        "email": f"fault-{tag}@example.org", "postcode": "SW2 1AA"},
            "reason": "Asked for support.", "needs": ["isolation"], "urgency": "routine",
            "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                     "safeguarding": False},
            "consent": {"subject_informed": True},
            "referrer": {"name": "Fault Referrer", "role": "Police officer"},
            "external_reference": f"FAULT-{tag}"}


@dataclass
class Traffic:
    """A bounded stream of referrals (retried with their Idempotency-Key, as a partner's system
    would), SMS and voice webhooks (not retried: Twilio does not), and what was accepted."""

    stack: Stack
    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)  # tag -> referral
    unconfirmed: list[str] = field(default_factory=list)
    sms: list[str] = field(default_factory=list)  # MessageSids answered 200
    calls: list[str] = field(default_factory=list)  # CallSids answered 200
    refused: Counter[str] = field(default_factory=Counter)
    voice_seconds: list[float] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _referral(self, http: httpx.AsyncClient, tag: str) -> None:
        headers = {**self.stack.auth("Fault Police"), "Idempotency-Key": f"fault-{tag}"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                resp = await http.post("/api/v1/referrals", json=referral_body(tag),
                                       headers=headers)
            except httpx.HTTPError as exc:
                self.refused[f"referral {type(exc).__name__}"] += 1
            else:
                if resp.status_code in (200, 201):
                    self.referrals[tag] = resp.json()
                    return
                self.refused[f"referral {resp.status_code}"] += 1
                if resp.status_code < 500 and resp.status_code != 429:
                    return
            await asyncio.sleep(0.5)
        self.unconfirmed.append(tag)

    async def _sms(self, http: httpx.AsyncClient, n: int) -> None:
        sid = "SM" + uuid.uuid4().hex
        form = {"MessageSid": sid, "AccountSid": "AC" + "5eed" * 8,
                "From": f"+4479117{n % 100_000:05d}", "To": self.stack.twilio_number,
                "Body": f"Please call me back, message {n}.", "NumMedia": "0",
                "ApiVersion": "2010-04-01"}
        try:
            resp = await http.post("/twilio/sms", data=form,
                                   headers=self.stack.sign("/twilio/sms", form))
        except httpx.HTTPError as exc:
            self.refused[f"sms {type(exc).__name__}"] += 1
            return
        if resp.status_code == 200:
            self.sms.append(sid)
        else:
            self.refused[f"sms {resp.status_code}"] += 1

    async def _call(self, http: httpx.AsyncClient, n: int) -> None:
        sid = "CA" + uuid.uuid4().hex
        form = {"CallSid": sid, "AccountSid": "AC" + "5eed" * 8,
                "From": f"+4479118{n % 100_000:05d}", "To": self.stack.twilio_number,
                "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        started = time.monotonic()
        try:
            resp = await http.post("/twilio/voice", data=form,
                                   headers=self.stack.sign("/twilio/voice", form))
        except httpx.HTTPError as exc:
            self.refused[f"voice {type(exc).__name__}"] += 1
            return
        if resp.status_code == 200:
            self.calls.append(sid)
            self.voice_seconds.append(time.monotonic() - started)
            assert "<Say" in resp.text, resp.text  # the menu or the fail-safe, never silence
        else:
            self.refused[f"voice {resp.status_code}"] += 1

    async def run(self, per_second: float = 3.0, limit: int = 200) -> None:
        """Send until `stop()` (or `limit` of each); wait for every request in flight."""
        tasks: list[asyncio.Task[None]] = []
        async with httpx.AsyncClient(base_url=self.stack.gateway_url, timeout=20) as http:
            n = 0
            while not self._stop.is_set() and n < limit:
                tag = uuid.uuid4().hex[:10]
                tasks += [asyncio.create_task(self._referral(http, tag)),
                          asyncio.create_task(self._sms(http, n)),
                          asyncio.create_task(self._call(http, n))]
                n += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1 / per_second)
            await asyncio.gather(*tasks)

    def stop(self) -> None:
        self._stop.set()


@contextlib.asynccontextmanager
async def traffic(stack: Stack, per_second: float = 3.0,
                  limit: int = 200) -> AsyncIterator[Traffic]:
    """Traffic flowing for the body of the `async with` (at most `limit` of each); finished
    (in flight too) after it."""
    t = Traffic(stack)
    task = asyncio.create_task(t.run(per_second, limit))
    try:
        await eventually(lambda: t.sms or t.calls or t.referrals or t.refused,
                         what="the first answers to the traffic")
        yield t
    finally:
        t.stop()
        await task


def contact_counts(stack: Stack, external_ids: list[str]) -> Counter[str]:
    """How many contacts intake holds for each CallSid/MessageSid."""
    settings = Settings(_env_file=None, database_url=stack.env["DATABASE_URL"],
                        var_dir=stack.var_dir)
    _, sync_url, schema = service_urls(settings, "intake")
    engine = sa.create_engine(sync_url)
    table = f'"{schema}".contact' if schema else "contact"
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT external_id FROM {table}")).scalars().all()
    finally:
        engine.dispose()
    wanted = set(external_ids)
    return Counter(r for r in rows if r in wanted)


async def partner_referrals(http: httpx.AsyncClient,
                            auth: dict[str, str]) -> list[dict[str, Any]]:
    """Every referral of the partner's organisation, all pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = await http.get("/api/v1/referrals", headers=auth, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return items


async def assert_exactly_once(stack: Stack, t: Traffic, *, timeout: float = 120.0) -> None:
    """Every accepted referral, handoff and contact exactly once; nothing duplicated."""
    assert not t.unconfirmed, f"referrals never confirmed to the partner: {t.unconfirmed}"
    assert t.referrals and t.sms and t.calls, f"too little got through: {t.refused}"
    refs = {r["reference"]: r for r in t.referrals.values()}
    assert len(refs) == len(t.referrals), "two partner requests were given one reference"
    police = stack.auth("Fault Police")
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        ours = Counter(i["reference"] for i in await partner_referrals(http, police)
                       if i["reference"] in refs)
        assert set(ours) == set(refs) and max(ours.values()) == 1, ours

        async def all_handed_off() -> Counter[str] | None:
            sent = Counter(ref for m in await stack.twilio.messages()
                           for ref in refs if ref in m["body"])
            return sent if len(sent) == len(refs) else None

        sent = await eventually(all_handed_off, timeout=timeout, interval=1.0,
                                what=f"a handoff SMS for each of {len(refs)} referrals")
        await stack.twilio.settle()
        sent = Counter(ref for m in await stack.twilio.messages() for ref in refs
                       if ref in m["body"])
        assert max(sent.values()) == 1, {r: n for r, n in sent.items() if n > 1}
        staff = stack.auth("Fault Hub", "staff")
        for referral in refs.values():
            got = await http.get("/api/v1/handoffs", headers=staff,
                                 params={"referral_id": referral["id"]})
            assert got.status_code == 200, got.text
            assert len(got.json()) == 1, (referral["reference"], got.json())
    contacts = contact_counts(stack, t.sms + t.calls)
    missing = [sid for sid in t.sms + t.calls if contacts[sid] == 0]
    assert missing == [], f"{len(missing)} answered webhooks left no contact"
    assert max(contacts.values()) == 1


def child_pid(stack: Stack, name: str) -> int:
    pid: int = stack.processes()["children"][name]["pid"]
    return pid


async def kill_and_wait_for_restart(stack: Stack, name: str) -> int:
    """`kill -9` one child; the supervisor must start a new one (new pid), which gets ready."""
    old = child_pid(stack, name)
    os.kill(old, signal.SIGKILL)

    async def restarted() -> int | None:
        with contextlib.suppress(FileNotFoundError, KeyError, ValueError):
            pid = child_pid(stack, name)
            if pid and pid != old:
                return pid
        return None

    new = await eventually(restarted, timeout=30, interval=0.2, what=f"{name} to be restarted")
    url = stack.gateway_url if name == "gateway" else stack.service_url(name)

    async def ready() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(url + "/healthz")).status_code == 200
        return False

    await eventually(ready, timeout=45, interval=0.2, what=f"{name} to answer again")
    return new
