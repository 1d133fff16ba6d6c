"""One contact the whole way: single number → gateway → intake; a police referral → routing →
key worker → handoff SMS → ACCEPT reply → the police officer sees `accepted`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e

SUBJECT = {"given_name": "Olamide", "family_name": "Testperson", "date_of_birth": "1990-04-01",
           "nhs_number": "9434765919", "phone": "07911 123456", "email": "olamide@example.org",
           "postcode": "SW2 1AA", "preferred_language": "en"}
REFERRAL = {"subject": SUBJECT, "reason": "Found distressed on Brixton Hill, agreed to support.",
            "needs": ["housing"], "risk": {"immediate_danger": False, "self_harm": False,
                                           "harm_to_others": False, "safeguarding": False},
            "urgency": "urgent", "consent": {"subject_informed": True},
            "referrer": {"name": "PC Example", "role": "Police officer",
                         "phone": "020 7123 4567", "email": "pc@example.police.uk"},
            "external_reference": "CAD-1234"}


async def test_a_signed_call_gets_the_menu_and_an_unsigned_one_is_refused(stack: Stack) -> None:
    call = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": "+447700900123", "To": stack.twilio_number, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as http:
        signed = stack.sign("/twilio/voice", call)
        resp = await http.post("/twilio/voice", data=call, headers=signed)
        assert resp.status_code == 200
        root = ET.fromstring(resp.text)
        assert root.tag == "Response"
        gather = root.find("Gather")
        assert gather is not None, resp.text
        assert "999" in ET.tostring(root, encoding="unicode")
        unsigned = await http.post("/twilio/voice", data=call)
        assert unsigned.status_code == 403


async def test_a_police_referral_reaches_a_key_worker_and_is_accepted(stack: Stack) -> None:
    worker_phone = f"+447400{uuid.uuid4().int % 1000000:06d}"
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        staff = stack.auth("Living Well Hub", "staff")
        worker = await http.post("/api/v1/keyworkers", headers=staff, json={
            "name": "Key Worker", "phone": worker_phone, "localities": ["south_west"],
            "teams": ["hub", "living_well_network"], "skills": [], "max_caseload": 50})
        assert worker.status_code == 201, worker.text

        police = stack.auth("Lambeth Police")
        idem = {"Idempotency-Key": str(uuid.uuid4())}
        created = await http.post("/api/v1/referrals", json=REFERRAL, headers={**police, **idem})
        assert created.status_code == 201, created.text
        referral = created.json()
        assert referral["reference"].startswith("LW-")
        assert referral["status"] == "received"
        assert referral["locality"] == "south_west"

        again = await http.post("/api/v1/referrals", json=REFERRAL, headers={**police, **idem})
        assert again.status_code == 200
        assert again.json()["id"] == referral["id"]

        async def the_handoff() -> list[dict[str, Any]]:
            return [m for m in await stack.twilio.messages()
                    if referral["reference"] in m["body"]]

        sent = await eventually(the_handoff, timeout=20, what="the handoff SMS")
        await stack.twilio.settle()
        sent = await the_handoff()
        assert len(sent) == 1, "exactly one SMS per handoff"
        sms = sent[0]
        body = sms["body"]
        code = re.search(r"ACCEPT (\S+)", body)
        assert code and f"DECLINE {code.group(1)}" in body
        for personal in ("Olamide", "Testperson", "07911", "7911123456", "SW2", "9434765919",
                         "Brixton", "housing"):
            assert personal.lower() not in body.lower(), f"{personal!r} leaked into the SMS"
        assert sms["from"] == stack.twilio_number

        reply = await stack.twilio.inbound_sms(sms["to"], f"accept {code.group(1)}")
        assert reply["status"] == 200

        async def accepted() -> dict[str, Any] | None:
            got = await http.get(f"/api/v1/referrals/{referral['id']}", headers=police)
            assert got.status_code == 200
            return got.json() if got.json()["status"] == "accepted" else None

        seen = await eventually(accepted, timeout=20, what="the referral to show accepted")
        assert "reason" not in seen and "subject" not in seen

        other = await http.get(f"/api/v1/referrals/{referral['id']}",
                               headers=stack.auth("Lambeth Housing"))
        assert other.status_code == 404

        listed = await http.get("/api/v1/referrals", headers=police)
        assert listed.status_code == 200


def test_a_key_made_with_the_cli_opens_the_api_for_its_organisation_only(stack: Stack) -> None:
    """The operator's way to make a key, once per run (the other tests get theirs in process
    with the same code, which saves a process start per key)."""
    made = subprocess.run(
        [sys.executable, "-m", "livewell", "keys", "create", "--org", "CLI Police", "--role",
         "partner", "--json"], env=stack.env, cwd=stack.var_dir.parent, check=True,
        capture_output=True, timeout=60)
    key = json.loads(made.stdout)
    assert key["org"] == "CLI Police" and key["role"] == "partner"
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        mine = http.get("/api/v1/referrals", headers={"Authorization": f"Bearer {key['key']}"})
        assert mine.status_code == 200, mine.text
        assert http.get("/api/v1/referrals", headers={
            "Authorization": f"Bearer {key['key']}x"}).status_code == 401
