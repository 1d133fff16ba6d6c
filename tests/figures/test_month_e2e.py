"""A month of activity with known answers, made through the services' own webhooks and APIs
on the real processes and the test clock, then every monthly figure checked: through
`livewell report`, the gateway's API and each publication rule, on SQLite and PostgreSQL.

The month is October 2027 (Europe/London): it starts at 23:00 UTC on 30 September (BST) and
ends at 00:00 UTC on 1 November (GMT, after the clock change on 31 October).

What happens (people P1…P6, anonymous callers A1…A3, key workers W1, W2 and the crisis
worker C):
- 30 Sep 22:30 UTC (September in London): P1 texts (new then; a self-referral, routine);
  22:45 UTC a caller hangs up at the menu (September).
- 30 Sep 23:30 UTC (00:30 on 1 October in London): P1 texts again (October, returning, joins
  their open referral). A1 and A2 take the crisis route; C answers A1 25 s after the call
  started, A2 after 90 s. A3 hangs up at the menu, and Twilio posts that call twice.
- P2 texts (Twilio posts the text twice), P3 emails, P4 writes through the website: three
  self-referrals. Lambeth Police refer P2 (urgent) and P5; Lambeth Housing refer P6 and later
  P5 again. W1 and W2 serve the north (the partners' postcodes); the self-referrals go to the
  hub, which nobody serves, so nobody is offered them.
- Handoffs: five offers; P5's first is declined and then accepted by the other worker, who
  is then P5's key worker and accepts P5's second referral too (continuity). Minutes from
  offer to accept: 5, 8, 2, 3.
- Staff record contact at known hours after each referral arrived and close three referrals
  (one received in September) in October and one in November.
- 31 Oct 23:30 UTC (October, GMT) A3 calls again and hangs up; 1 Nov 00:30 UTC (November)
  once more.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import INTERNAL_TOKEN, Stack, eventually

pytestmark = pytest.mark.e2e

STAFF_ORG = "Living Well Hub"
POLICE, HOUSING = "Lambeth Police", "Lambeth Housing"
P1, P2, A1, A2, A3, AS = ("+447700900101", "+447700900102", "+447700900131", "+447700900132",
                          "+447700900133", "+447700900139")
W1, W2, C = "+447400900201", "+447400900202", "+447400900203"
REFERENCE = re.compile(r"LW-[A-Z0-9]{4}-[A-Z0-9]{4}")
NO_RISK = {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
           "safeguarding": False}


@dataclass
class Month:
    stack: Stack
    http: httpx.AsyncClient
    received: dict[str, datetime] = field(default_factory=dict)  # reference → received
    ids: dict[str, str] = field(default_factory=dict)  # reference → referral id
    keyworkers: dict[str, str] = field(default_factory=dict)  # phone → id

    @property
    def staff(self) -> dict[str, str]:
        return self.stack.auth(STAFF_ORG, "staff")

    async def now(self) -> datetime:
        resp = await self.http.post(self.stack.service_url("intake") + "/internal/clock/advance",
                                    json={"seconds": 0},
                                    headers={"x-internal-token": INTERNAL_TOKEN})
        resp.raise_for_status()
        return datetime.fromisoformat(resp.json()["now"])

    async def go_to(self, moment: datetime) -> None:
        gap = (moment - await self.now()).total_seconds()
        assert gap >= 0, f"the clock is past {moment}"
        while gap > 0:  # the test clock moves at most 30 days at a time
            step = min(gap, 29 * 86400)
            await self.stack.advance_clock(step)
            gap -= step

    async def wait(self, seconds: float) -> None:
        await self.stack.advance_clock(seconds)

    # --- the front door ------------------------------------------------------------------

    async def twilio(self, path: str, params: dict[str, str]) -> httpx.Response:
        resp = await self.http.post(path, data=params, headers=self.stack.sign(path, params))
        assert resp.status_code in (200, 204), resp.text
        return resp

    def _call(self, sid: str, number: str, **extra: str) -> dict[str, str]:
        return {"CallSid": sid, "AccountSid": "AC" + "5eed" * 8, "From": number,
                "To": self.stack.twilio_number, "Direction": "inbound",
                "ApiVersion": "2010-04-01", **extra}

    async def hang_up_at_menu(self, number: str, *, retried: bool = False) -> None:
        sid = "CA" + uuid.uuid4().hex
        for _ in range(2 if retried else 1):  # Twilio retrying the webhook: one call
            await self.twilio("/twilio/voice", self._call(sid, number, CallStatus="ringing"))
        await self.twilio("/twilio/voice/status", self._call(sid, number,
                                                             CallStatus="completed"))

    async def crisis_call(self, number: str, *, answered_after: int, talked: int) -> None:
        """Option 1; C picks up `answered_after` s after the call started and talks `talked`
        s: Twilio calls the Dial action when that conversation ends."""
        sid = "CA" + uuid.uuid4().hex
        await self.twilio("/twilio/voice", self._call(sid, number, CallStatus="ringing"))
        dial = await self.twilio("/twilio/voice/menu",
                                 self._call(sid, number, CallStatus="in-progress", Digits="1"))
        assert C in dial.text, dial.text
        await self.wait(answered_after + talked)
        done = await self.twilio("/twilio/voice/crisis?tier=1", self._call(
            sid, number, CallStatus="in-progress", DialCallStatus="completed",
            DialCallDuration=str(talked)))
        assert "<Hangup" in done.text

    async def text(self, number: str, body: str, *, retried: bool = False) -> str:
        """The reference the reply (TwiML) gives."""
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
                  "From": number, "To": self.stack.twilio_number, "Body": body,
                  "NumMedia": "0", "ApiVersion": "2010-04-01"}
        replies = [(await self.twilio("/twilio/sms", params)).text
                   for _ in range(2 if retried else 1)]
        hit = REFERENCE.search(replies[0])
        assert hit, replies[0]
        return hit.group(0)

    async def email(self, sender: str) -> str:
        form = {"from": sender, "to": "help@livingwell.example", "subject": "Support",
                "text": "I would like to talk to someone about how I have been feeling.",
                "headers": f"Message-ID: <{uuid.uuid4().hex}@mail.example>\n"}
        resp = await self.http.post("/email/inbound", files={k: (None, v) for k, v in form.items()},
                                    auth=("sendgrid", self.stack.env["EMAIL_INBOUND_SECRET"]))
        assert resp.status_code == 200, resp.text
        return str(resp.json()["reference"])

    async def web(self, email: str) -> str:
        resp = await self.http.post(
            self.stack.service_url("intake") + "/internal/web-contacts",
            headers={"x-internal-token": INTERNAL_TOKEN},
            json={"token": uuid.uuid4().hex, "message": "Please get in touch, I am struggling.",
                  "email": email, "preferred_way": "email"})
        assert resp.status_code == 200, resp.text
        return str(resp.json()["reference"])

    # --- referrals, handoffs and the team -----------------------------------------------

    async def referral(self, reference: str) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            resp = await self.http.get("/api/v1/referrals", headers=self.staff,
                                       params={"reference": reference})
            assert resp.status_code == 200, resp.text
            items: list[dict[str, Any]] = resp.json()["items"]
            return items[0] if items else None

        row: dict[str, Any] = await eventually(found, timeout=20, what=f"referral {reference}")
        self.ids[reference] = row["id"]
        self.received[reference] = datetime.fromisoformat(row["created_at"])
        return row

    async def refer(self, org: str, subject: dict[str, Any], urgency: str) -> str:
        body = {"subject": {"postcode": "SW9 8AA", **subject}, "reason": "Asked for support.",
                "needs": [], "risk": NO_RISK, "urgency": urgency,
                "consent": {"subject_informed": True},
                "referrer": {"name": "Referrer", "role": "Officer"}}
        resp = await self.http.post("/api/v1/referrals", json=body, headers={
            **self.stack.auth(org), "Idempotency-Key": str(uuid.uuid4())})
        assert resp.status_code == 201, resp.text
        row = resp.json()
        assert row["locality"] == "north", row
        await self.referral(row["reference"])
        return str(row["reference"])

    async def offer(self, reference: str, seen: int = 0) -> tuple[str, str]:
        """(the key worker's phone, the reply code) of the newest handoff SMS."""

        async def found() -> list[dict[str, Any]] | None:
            sent = [m for m in await self.stack.twilio.messages()
                    if reference in m["body"] and "ACCEPT" in m["body"]]
            return sent if len(sent) > seen else None

        sent = await eventually(found, timeout=20, what=f"offer {seen + 1} of {reference}")
        code = re.search(r"ACCEPT (\S+)", sent[-1]["body"])
        assert code
        return sent[-1]["to"], code.group(1)

    async def reply(self, phone: str, words: str, reference: str, status: str | None) -> None:
        """A key worker's reply; waits until the referral shows `status`, if given."""
        resp = await self.stack.twilio.inbound_sms(phone, words)
        assert resp["status"] == 200
        if status is None:
            return

        async def moved() -> bool:
            got = await self.http.get(f"/api/v1/referrals/{self.ids[reference]}",
                                      headers=self.staff)
            assert got.status_code == 200
            return any(t["status"] == status for t in got.json()["timeline"])

        await eventually(moved, timeout=20, what=f"{reference} to be {status}")

    async def accept_after(self, reference: str, minutes: int, seen: int = 0) -> str:
        phone, code = await self.offer(reference, seen)
        await self.wait(minutes * 60)
        await self.reply(phone, f"ACCEPT {code}", reference, "accepted")
        return phone

    async def step(self, reference: str, event: str, at: datetime,
                   outcome: str | None = None) -> None:
        body: dict[str, Any] = {"event": event, "at": at.isoformat()}
        if outcome:
            body["outcome"] = outcome
        resp = await self.http.post(f"/api/v1/referrals/{self.ids[reference]}/events",
                                    headers=self.staff, json=body)
        assert resp.status_code == 200, resp.text

    async def contacted(self, reference: str, hours: float) -> None:
        await self.step(reference, "contacted", self.received[reference] + timedelta(hours=hours))

    async def key_worker(self, phone: str, *, serves: bool = True) -> str:
        resp = await self.http.post("/api/v1/keyworkers", headers=self.staff, json={
            "name": "Figures Worker", "phone": phone, "localities": ["north"] if serves else [],
            "teams": [], "skills": [], "max_caseload": 20})
        assert resp.status_code == 201, resp.text
        self.keyworkers[phone] = resp.json()["id"]
        return self.keyworkers[phone]

    async def on_crisis_duty(self, phone: str, start: datetime, hours: int) -> None:
        resp = await self.http.post("/api/v1/rota/shifts", headers=self.staff, json={
            "keyworker_id": self.keyworkers[phone], "role": "crisis_duty",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat()})
        assert resp.status_code == 201, resp.text


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def report(stack: Stack, month: str, *flags: str) -> str:
    out = subprocess.run([sys.executable, "-m", "livewell", "report", "--month", month, *flags],
                         env=stack.env, cwd=stack.var_dir.parent, capture_output=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode()


async def make_the_month(m: Month) -> dict[str, str]:
    """Everything above; the references by name."""
    refs: dict[str, str] = {}
    await m.go_to(utc(2027, 9, 30, 22, 30))
    for phone in (W1, W2):
        await m.key_worker(phone)
    await m.key_worker(C, serves=False)
    await m.on_crisis_duty(C, utc(2027, 9, 30, 22, 0), 12)

    refs["p1_september"] = await m.text(P1, "Hello, could someone call me back please")
    await m.referral(refs["p1_september"])
    await m.wait(15 * 60)
    await m.hang_up_at_menu(AS)  # September too

    await m.go_to(utc(2027, 9, 30, 23, 30))  # 00:30 on 1 October in London
    await m.text(P1, "Me again, still waiting to hear back")
    await m.crisis_call(A1, answered_after=25, talked=120)
    await m.crisis_call(A2, answered_after=90, talked=60)
    await m.hang_up_at_menu(A3, retried=True)

    refs["p2_self"] = await m.text(P2, "Hi, I have been feeling low, can someone call me",
                                   retried=True)
    refs["p3_self"] = await m.email("p3-figures@mail.example")
    refs["p4_self"] = await m.web("p4-figures@mail.example")
    for ref in ("p2_self", "p3_self", "p4_self"):
        await m.referral(refs[ref])

    refs["p2_police"] = await m.refer(POLICE, {"given_name": "Pat", "family_name": "Two",
                                               "phone": P2}, "urgent")
    await m.accept_after(refs["p2_police"], 5)
    p5 = {"given_name": "Sam", "family_name": "Five", "email": "p5-figures@mail.example"}
    refs["p5_police"] = await m.refer(POLICE, p5, "routine")
    first, code = await m.offer(refs["p5_police"])
    await m.wait(60)
    await m.reply(first, f"DECLINE {code}", refs["p5_police"], None)
    keeper = await m.accept_after(refs["p5_police"], 8, seen=1)
    assert keeper != first
    refs["p6_housing"] = await m.refer(HOUSING, {"given_name": "Lee", "family_name": "Six",
                                                 "email": "p6-figures@mail.example"}, "routine")
    await m.accept_after(refs["p6_housing"], 2)
    refs["p5_housing"] = await m.refer(HOUSING, p5, "routine")
    assert await m.accept_after(refs["p5_housing"], 3) == keeper  # the same key worker

    await m.go_to(utc(2027, 10, 20, 12, 0))
    await m.contacted(refs["p2_police"], 30)  # urgent: 24 h, late
    await m.contacted(refs["p5_police"], 48)  # routine: 7 days, in time
    await m.contacted(refs["p6_housing"], 200)  # late
    await m.contacted(refs["p5_housing"], 24)
    await m.contacted(refs["p2_self"], 12)
    await m.step(refs["p6_housing"], "closed", utc(2027, 10, 20, 11, 0), "supported")
    await m.step(refs["p3_self"], "closed", utc(2027, 10, 20, 11, 0), "signposted")
    await m.step(refs["p1_september"], "closed", utc(2027, 10, 20, 11, 0), "supported")

    await m.go_to(utc(2027, 10, 31, 23, 30))  # still October: GMT since 01:00 UTC
    await m.hang_up_at_menu(A3)
    await m.go_to(utc(2027, 11, 1, 0, 30))  # November
    await m.hang_up_at_menu(A3)
    await m.step(refs["p5_housing"], "closed", utc(2027, 11, 1, 0, 15), "supported")
    return refs


OCTOBER = {
    "month": "2027-10",
    # P1…P6 and A1, A2, A3; all but P1 (known since September) are new
    "people_supported": 9, "people_new": 8,
    # the retried call and text once each; the key workers' replies none
    "contacts": {"voice": 4, "sms": 2, "email": 1, "web": 1},
    "referrals": {"total": 7, "by_source": {HOUSING: 2, POLICE: 2, "Self-referral": 3},
                  "by_urgency": {"routine": 6, "urgent": 1},
                  "by_locality": {"hub": 3, "north": 4}},
    # 12, 24, 30, 48, 200 hours: the median 30, the 90th percentile by nearest rank 200
    "time_to_contact_hours": {"n": 5, "median": 30.0, "p90": 200.0},
    "respond_by": {"routine": {"referrals": 6, "contacted_in_time": 3},
                   "urgent": {"referrals": 1, "contacted_in_time": 0}},
    "closed_by_outcome": {"signposted": 1, "supported": 2},
    # minutes to accept 5, 8, 2, 3
    "handoffs": {"offered": 5, "accepted": 4, "declined": 1, "median_minutes_to_accept": 4.0},
    "continuity": {"returning_people": 1, "same_key_worker": 1},
    "crisis_calls": {"total": 2, "to_a_human_within_60s": 1},
    "signposted": {},
    "outreach_visits": {"assigned": 0, "by_outcome": {}},
}


async def test_a_month_of_activity_gives_figures_that_can_be_checked_by_hand(
    figures_stack: Stack,
) -> None:
    stack = figures_stack
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        await make_the_month(Month(stack, http))
        await stack.twilio.settle()

        october = json.loads(report(stack, "2027-10", "--json"))
        # The test clock runs on in real time too: a reply lands a second or so after the
        # minutes the clock was moved.
        assert october["handoffs"].pop("median_minutes_to_accept") == pytest.approx(4, abs=0.2)
        expected = json.loads(json.dumps(OCTOBER))
        del expected["handoffs"]["median_minutes_to_accept"]
        assert october == expected

        api = await http.get("/api/v1/reports/monthly", params={"month": "2027-10"},
                             headers=stack.auth(STAFF_ORG, "staff"))
        assert api.status_code == 200, api.text
        answer = api.json()
        assert answer["handoffs"].pop("median_minutes_to_accept") == pytest.approx(4, abs=0.2)
        assert answer == expected
        partner = await http.get("/api/v1/reports/monthly", params={"month": "2027-10"},
                                 headers=stack.auth(POLICE))
        assert partner.status_code == 403
        nobody = await http.get("/api/v1/reports/monthly", params={"month": "2027-10"})
        assert nobody.status_code == 401
        bad = await http.get("/api/v1/reports/monthly", params={"month": "2027-13"},
                             headers=stack.auth(STAFF_ORG, "staff"))
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["errors"][0]["loc"] == ["query", "month"]

    september = json.loads(report(stack, "2027-09", "--json"))
    assert september["contacts"] == {"voice": 1, "sms": 1, "email": 0, "web": 0}
    assert (september["people_supported"], september["people_new"]) == (2, 2)
    assert september["referrals"]["total"] == 1
    november = json.loads(report(stack, "2027-11", "--json"))
    assert november["contacts"]["voice"] == 1 and november["people_supported"] == 1
    assert november["people_new"] == 0  # A3 called in October
    assert november["closed_by_outcome"] == {"supported": 1}

    published = json.loads(report(stack, "2027-10", "--json", "--publish"))
    assert published["people_supported"] == 10 and published["people_new"] == 10
    assert published["contacts"] == {"voice": "*", "sms": "*", "email": "*", "web": "*"}
    assert published["time_to_contact_hours"] == {"n": "*", "median": "*", "p90": "*"}
    assert published["handoffs"]["median_minutes_to_accept"] == "*"
    assert published["crisis_calls"]["percent_within_60s"] == "*"
    text = report(stack, "2027-10")
    assert "People supported" in text and "Lambeth Police" in text
    rows = report(stack, "2027-10", "--csv", "--publish").splitlines()
    assert rows[0] == "measure,breakdown,value" and "people_supported,,10" in rows
    for leak in (P1, P2, "p3-figures", "Sam", "Five"):
        assert all(leak not in r for r in rows)
