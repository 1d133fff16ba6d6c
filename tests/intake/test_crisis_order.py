"""The crisis route rings one tier at a time: crisis workers, then the coordinator, then the
backup manager, then the crisis line (docs/intake.md)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from services.intake.models import OutboxMessage
from tests.intake.conftest import CRISIS_LINE, post_twilio
from tests.intake.fakes import FakePeers, mobile, sid, twiml
from tests.intake.test_voice import call, step_of
from tests.support.service import ServiceHarness

# Keyperson's rule for `GET /internal/rota/on-duty`: unless `fallback=false`, a role's answer
# also lists the roles it escalates to (services/keyperson/rota.py ESCALATION).
ESCALATION = {"crisis_duty": ("crisis_duty", "duty_coordinator", "backup_manager"),
              "duty_coordinator": ("duty_coordinator", "backup_manager"),
              "backup_manager": ("backup_manager",)}
ON_DUTY = {"crisis_duty": ["+447400900001"], "duty_coordinator": ["+447400900002"],
           "backup_manager": ["+447400900003"]}


def keyperson_rota(_: Any, request: web.Request) -> tuple[int, Any]:
    role = request.query.get("role", "")
    roles = ESCALATION.get(role, (role,))
    if request.query.get("fallback", "true").lower() in ("false", "0"):
        roles = (role,)
    return 200, {"numbers": [n for r in roles for n in ON_DUTY.get(r, [])]}


async def test_each_tier_rings_only_its_own_role_in_the_documented_order(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/rota/on-duty", keyperson_rota)
    call_sid, caller = sid("CA"), mobile()
    await post_twilio(intake, "/twilio/voice", call(call_sid, caller))
    resp = await post_twilio(intake, "/twilio/voice/menu", call(call_sid, caller, Digits="1"),
                             attempt=1)
    rung: list[list[str | None]] = []
    root = twiml(resp.text)
    while (dial := root.find("Dial")) is not None:
        rung.append([n.text for n in dial.findall("Number")])
        path, params = step_of(dial.get("action", ""))
        root = twiml((await post_twilio(intake, path, call(call_sid, caller,
                                                           DialCallStatus="no-answer"),
                                        **params)).text)
    assert rung == [["+447400900001"], ["+447400900002"], ["+447400900003"], [CRISIS_LINE]]
    # Nobody answered: the signposting text to the caller goes before any routine work.
    async with intake.kit.db.sessionmaker() as session:
        text = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.like("person-message:%crisis_signposting"),
            OutboxMessage.payload["to"].as_string() == caller))
    assert text is not None and text.priority == 0
