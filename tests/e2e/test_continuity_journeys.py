"""Continuity and the roster through the real processes (issue 12, items 7 and 10), on SQLite
and PostgreSQL: a returning person at a full caseload goes back to their key worker; a
referral made before any rota is not left unassigned, and the alert about it says nothing
once a key worker holds it.

The stack is shared, so each journey keeps to its own corner: a language only its workers
speak, or a locality and team (south_east, ips_alliance) no other test's worker serves; its
workers take one or two referrals; its shifts come off the rota afterwards; it looks only at
messages about its own references.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import INTERNAL_TOKEN, Stack, eventually

pytestmark = pytest.mark.e2e

STAFF = ("Living Well Hub", "staff")
NO_RISK = {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
           "safeguarding": False}


def mobile() -> str:
    return f"+447400{uuid.uuid4().int % 1000000:06d}"


@dataclass
class Corner:
    stack: Stack
    http: httpx.AsyncClient
    workers: list[str] = field(default_factory=list)
    shifts: list[str] = field(default_factory=list)

    @property
    def staff(self) -> dict[str, str]:
        return self.stack.auth(*STAFF)

    async def now(self) -> datetime:
        """The stack's clock as keyperson sees it (tests may have moved it forward)."""
        resp = await self.http.post(self.stack.service_url("keyperson")
                                    + "/internal/clock/advance", json={"seconds": 0},
                                    headers={"x-internal-token": INTERNAL_TOKEN})
        resp.raise_for_status()
        return datetime.fromisoformat(resp.json()["now"])

    async def worker(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Continuity Proof", "phone": mobile(), **fields}
        resp = await self.http.post("/api/v1/keyworkers", headers=self.staff, json=body)
        assert resp.status_code == 201, resp.text
        self.workers.append(resp.json()["id"])
        created: dict[str, Any] = resp.json()
        return created

    async def refer(self, partner: str, subject: dict[str, Any],
                    needs: list[str]) -> dict[str, Any]:
        resp = await self.http.post("/api/v1/referrals", headers={
            **self.stack.auth(partner), "Idempotency-Key": str(uuid.uuid4())}, json={
            "subject": subject, "reason": "Would like some support.", "needs": needs,
            "risk": NO_RISK, "urgency": "routine", "consent": {"subject_informed": True},
            "referrer": {"name": "Continuity Proof", "role": "Support worker"}})
        assert resp.status_code == 201, resp.text
        referral: dict[str, Any] = resp.json()
        return referral

    def assignment(self, referral: dict[str, Any], attempt: int,
                   ) -> Callable[[], Awaitable[dict[str, Any] | None]]:
        """A check for the referral's assignment once at `attempt` (or later)."""

        async def check() -> dict[str, Any] | None:
            got = await self.http.get(f"/api/v1/assignments/{referral['id']}",
                                      headers=self.staff)
            if got.status_code != 200 or got.json()["attempt"] < attempt:
                return None
            found: dict[str, Any] = got.json()
            return found

        return check

    async def accept(self, phone: str, offer: str) -> None:
        """The worker replies ACCEPT with the code of the handoff SMS `offer`."""
        code = re.search(r"ACCEPT (\S+)", offer)
        assert code is not None, offer
        answer = await self.stack.twilio.inbound_sms(phone, f"accept {code.group(1)}")
        assert answer["status"] == 200, answer

    def status(self, referral: dict[str, Any], status: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            got = await self.http.get(f"/api/v1/assignments/{referral['id']}",
                                      headers=self.staff)
            return bool(got.json()["status"] == status)

        return check

    async def caseload(self, keyworker_id: str) -> int:
        got = await self.http.get(f"/api/v1/keyworkers/{keyworker_id}", headers=self.staff)
        return int(got.json()["caseload"])

    async def sms(self, to: str, reference: str, *, handoff: bool = True) -> list[str]:
        """Bodies of the SMS to `to` about `reference` (handoffs, or everything else)."""
        return [m["body"] for m in await self.stack.twilio.messages()
                if m["to"] == to and reference in m["body"]
                and ("ACCEPT" in m["body"]) == handoff]

    async def tidy(self) -> None:
        """Shifts off the rota; workers who hold nobody off the roster."""
        for shift in self.shifts:
            await self.http.delete(f"/api/v1/rota/shifts/{shift}", headers=self.staff)
        for worker in self.workers:
            if await self.caseload(worker) == 0:
                await self.http.delete(f"/api/v1/keyworkers/{worker}", headers=self.staff)


async def test_a_returning_person_at_a_full_caseload_goes_back_to_their_key_worker(
    stack: Stack,
) -> None:
    language = "q" + random.choice("abcdefghijklmnopqrst") + random.choice(string.ascii_lowercase)
    jo_phone = mobile()
    jo = {"given_name": "Jo", "family_name": "Continuity", "phone": jo_phone,
          "postcode": "SW2 1AA", "preferred_language": language}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        corner = Corner(stack, http)
        try:
            ada = await corner.worker(localities=["south_west"], teams=["hub"],
                                      skills=[f"lang:{language}"], max_caseload=1)
            first = await corner.refer("Continuity Proof Police", jo, [])
            held = await eventually(corner.assignment(first, 1), timeout=30,
                                    what="the first assignment")
            assert held["keyworker_id"] == ada["id"]

            [offer] = await eventually(lambda: corner.sms(ada["phone"], first["reference"]),
                                       timeout=30, what="the first handoff SMS")
            await corner.accept(ada["phone"], offer)
            await eventually(corner.status(first, "accepted"), timeout=30,
                             what="the acceptance")
            assert await corner.caseload(ada["id"]) == 1  # full
            # A stranger with room, who would rank first for anyone new.
            stranger = await corner.worker(localities=["south_west"], teams=["hub"],
                                           skills=[f"lang:{language}"], max_caseload=5)

            # Another organisation refers Jo again, writing the number another way.
            again = await corner.refer("Continuity Proof Housing",
                                       {**jo, "phone": "0" + jo_phone[3:]}, ["housing"])
            second = await eventually(corner.assignment(again, 1), timeout=30,
                                      what="the second assignment")
            assert second["person_id"] == held["person_id"], "the same person"
            assert (second["keyworker_id"], second["via"]) == (ada["id"], "continuity")
            [offer] = await eventually(lambda: corner.sms(ada["phone"], again["reference"]),
                                       timeout=30,
                                       what="the second handoff SMS, to the same worker")
            assert await corner.caseload(ada["id"]) == 1, "one person, one place"
            assert await corner.caseload(stranger["id"]) == 0
            assert await corner.sms(stranger["phone"], again["reference"]) == []
            # Ada takes it too (left open, its handoff would escalate in later tests).
            await corner.accept(ada["phone"], offer)
        finally:
            await corner.tidy()


async def test_a_referral_before_any_rota_is_assigned_later_and_its_alert_goes_quiet(
    stack: Stack,
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        corner = Corner(stack, http)
        # Past every shift another test may have left (a shift lasts at most 24 hours).
        await stack.advance_clock(25 * 3600)
        on_duty = await http.get("/api/v1/rota/on-duty", headers=corner.staff)
        holders = [e for e in on_duty.json()
                   if e["role"] in ("duty_coordinator", "backup_manager")]
        assert holders == [], "nobody may hold referrals on duty yet"
        explain = await http.post("/api/v1/assignments/explain", headers=corner.staff, json={
            "locality": "south_east", "team": "ips_alliance"})
        assert explain.json()["via"] == "unassigned", "this corner must be nobody's"
        try:
            subject = {"given_name": "Before", "family_name": "Rota", "phone": mobile(),
                       "postcode": "SE27 9AA"}
            early = await corner.refer("Continuity Proof Partner", subject, ["substance_use"])
            assert (early["locality"], early["team"]) == ("south_east", "ips_alliance")
            waiting = await eventually(corner.assignment(early, 1), timeout=30,
                                       what="the first try")
            assert (waiting["status"], waiting["via"]) == ("unassigned", "unassigned")

            # A duty coordinator whose shift starts in an hour, and a key worker now.
            coordinator = await corner.worker(max_caseload=0)
            now = await corner.now()
            shift = await http.post("/api/v1/rota/shifts", headers=corner.staff, json={
                "keyworker_id": coordinator["id"], "role": "duty_coordinator",
                "starts_at": (now + timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=9)).isoformat()})
            assert shift.status_code == 201, shift.text
            corner.shifts.append(shift.json()["id"])
            ada = await corner.worker(localities=["south_east"], teams=["ips_alliance"],
                                      max_caseload=1)
            got = await eventually(corner.assignment(early, 2), timeout=30,
                                   what="the retry when a worker is added")
            assert (got["keyworker_id"], got["via"]) == (ada["id"], "ranking")
            await eventually(lambda: corner.sms(ada["phone"], early["reference"]),
                             timeout=30, what="the handoff SMS")

            # Ada is full now: the next one waits, then the coordinator's shift starts.
            later = await corner.refer("Continuity Proof Partner", {
                **subject, "given_name": "After", "phone": mobile()}, ["substance_use"])
            waits = await eventually(corner.assignment(later, 1), timeout=30,
                                     what="the second referral's first try")
            assert waits["via"] == "unassigned"
            await stack.advance_clock(3601)
            holds = await eventually(corner.assignment(later, 2), timeout=30,
                                     what="the retry when the shift starts")
            assert (holds["keyworker_id"], holds["via"]) == (coordinator["id"],
                                                             "duty_coordinator")
            # Still true for the second referral: the coordinator is told nobody fits …
            await eventually(lambda: corner.sms(coordinator["phone"], later["reference"],
                                                handoff=False),
                             timeout=30, what="the nobody-fits alert about the second")

            # … but not about the first, which a key worker holds since.
            async def superseded() -> bool:
                return any('"alert.superseded"' in line and early["id"] in line
                           for line in stack.logs().splitlines())

            await eventually(superseded, timeout=30, what="the stale alert superseded")
            assert await corner.sms(coordinator["phone"], early["reference"],
                                    handoff=False) == []

            # Room again for Ada: the coordinator lets go of the second referral (and keeps
            # whatever else of the shared stack waited for them).
            holding = await corner.caseload(coordinator["id"])
            resp = await http.patch(f"/api/v1/keyworkers/{ada['id']}", headers=corner.staff,
                                    json={"max_caseload": 2})
            assert resp.status_code == 200, resp.text
            moved = await eventually(corner.assignment(later, 3), timeout=30,
                                     what="the retry when the worker changes")
            assert (moved["keyworker_id"], moved["via"]) == (ada["id"], "ranking")
            assert await corner.caseload(coordinator["id"]) == holding - 1
            assert await corner.caseload(ada["id"]) == 2
        finally:
            await corner.tidy()
