"""The front door end to end: texts, a crisis call and an email through the real gateway."""

from __future__ import annotations

import random
import re
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"LW-[0-9A-Z]{4}-[0-9A-Z]{4}")


def mobile() -> str:
    return f"+447400{random.randint(0, 999999):06d}"


async def test_a_text_gets_a_reference_and_a_second_text_joins_it(stack: Stack) -> None:
    phone = mobile()
    first = await stack.twilio.inbound_sms(phone, "Hello, I could do with some support")
    assert first["status"] == 200
    found = REFERENCE.search(ET.fromstring(first["twiml"]).findtext("Message") or "")
    assert found, first["twiml"]
    second = await stack.twilio.inbound_sms(phone, "Also, mornings are best")
    assert found.group(0) in (ET.fromstring(second["twiml"]).findtext("Message") or "")


async def test_a_crisis_call_with_nobody_on_duty_ends_in_the_999_instruction(
    stack: Stack,
) -> None:
    call = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": mobile(), "To": stack.twilio_number, "CallStatus": "in-progress",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        greeting = await http.post("/twilio/voice", data=call,
                                   headers=stack.sign("/twilio/voice", call))
        gather = ET.fromstring(greeting.text).find("Gather")
        assert gather is not None
        action = gather.get("action", "")
        assert action.startswith(stack.gateway_url + "/twilio/voice/menu?")
        path = action.removeprefix(stack.gateway_url)
        pressed = {**call, "Digits": "1"}
        resp = await http.post(path, data=pressed, headers=stack.sign(path, pressed))
    assert resp.status_code == 200
    root = ET.fromstring(resp.text)
    said = " ".join(s.text or "" for s in root.iter("Say"))
    assert "999" in said
    assert root[-1].tag == "Hangup"  # no one on the rota and no crisis line configured


async def test_an_email_through_the_gateway_is_acknowledged_with_a_reference(
    stack: Stack,
) -> None:
    form = {"from": f"gp-{uuid.uuid4().hex[:6]}@surgery.example", "to": "help@livingwell.example",
            "subject": "Referral", "text": "Please contact this person and their carer.",
            "headers": f"Message-ID: <{uuid.uuid4().hex}@surgery.example>\n"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        resp = await http.post("/email/inbound", files={k: (None, v) for k, v in form.items()},
                               auth=("sendgrid", stack.env["EMAIL_INBOUND_SECRET"]))
        refused = await http.post("/email/inbound", files={k: (None, v) for k, v in form.items()},
                                  auth=("sendgrid", "wrong"))
    assert resp.status_code == 200, resp.text
    assert REFERENCE.fullmatch(resp.json()["reference"] or "")
    assert refused.status_code == 401
