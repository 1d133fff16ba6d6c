"""`/_mock/…`: read what was sent, inject faults, drive calls, send an inbound SMS."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from livewell.twilio_mock.lifecycle import Webhooks
from livewell.twilio_mock.state import Fault, MockState


class FaultIn(BaseModel):
    resource: Literal["messages", "calls", "any"] = "any"
    to: str | None = None
    status: int = Field(default=500, ge=400, le=599)
    code: int = 20500
    message: str = "Internal Server Error"
    retry_after: float | None = None
    delay: float = Field(default=0.0, ge=0, le=120)
    times: int | None = Field(default=1, ge=1)
    after_create: bool = False
    delivery: Literal["undelivered", "failed"] | None = None
    error_code: int | None = None
    answer: bool = True


class InboundSms(BaseModel):
    from_: str = Field(alias="from")
    body: str
    to: str | None = None


class Digits(BaseModel):
    digits: str = Field(pattern=r"^[0-9*#w]{1,20}$")


class Hangup(BaseModel):
    status: Literal["completed", "no-answer", "busy", "failed", "canceled"] = "completed"


class StatusChange(BaseModel):
    status: Literal["sent", "delivered", "undelivered", "failed"]
    error_code: int | None = None


class Advance(BaseModel):
    seconds: float = Field(ge=0)


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def router(state: MockState, hooks: Webhooks) -> APIRouter:
    """The mock's own control surface (not part of Twilio's API)."""
    r = APIRouter(prefix="/_mock")

    @r.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        """Every message created, oldest first."""
        return [{"sid": sid, **_iso(m)} for sid, m in
                sorted(state.messages.items(), key=lambda kv: kv[1]["created"])]

    @r.get("/calls")
    async def calls() -> list[dict[str, Any]]:
        """Every call created, oldest first, with what it said and the Gather it waits on."""
        return [{"sid": sid, **_iso(c)} for sid, c in
                sorted(state.calls.items(), key=lambda kv: kv[1]["created"])]

    @r.get("/callbacks")
    async def callbacks() -> list[dict[str, Any]]:
        """Every signed request the mock made to the application, in order."""
        return state.callbacks

    @r.post("/reset")
    async def reset() -> dict[str, str]:
        """Forget everything and clear every fault."""
        state.reset()
        return {"status": "reset"}

    @r.get("/faults")
    async def faults() -> list[dict[str, Any]]:
        return [dataclasses.asdict(f) for f in state.faults]

    @r.post("/faults", status_code=201)
    async def add_fault(body: FaultIn) -> dict[str, Any]:
        """Inject a failure: an error answer (500, 429 with Retry-After, 21610 …), a slow answer
        (`delay` beyond the client's timeout), a failure after creating, or a failed delivery."""
        fault = Fault(**body.model_dump())
        state.faults.append(fault)
        return dataclasses.asdict(fault)

    @r.delete("/faults")
    async def clear_faults() -> dict[str, str]:
        state.faults.clear()
        return {"status": "cleared"}

    @r.post("/settle")
    async def settle() -> dict[str, int]:
        """Wait until every lifecycle in flight (callbacks, calls) has run as far as it can."""
        for _ in range(100):
            pending = [t for t in hooks.tasks if not t.done()]
            if not pending:
                break
            await asyncio.wait(pending, timeout=5.0)
        return {"pending": sum(not t.done() for t in hooks.tasks)}

    @r.post("/clock/advance")
    async def advance(body: Advance) -> dict[str, str]:
        """Move the mock's clock with the application's test clock."""
        state.offset += timedelta(seconds=body.seconds)
        return {"now": state.now().isoformat()}

    @r.post("/messages/{sid}/status")
    async def message_status(sid: str, body: StatusChange) -> dict[str, Any]:
        """Move a message's status by hand and send the signed callback."""
        if sid not in state.messages:
            raise HTTPException(404, "no such message")
        await hooks.message_status(sid, body.status, body.error_code)
        return state.message_json(sid)

    @r.post("/calls/{sid}/digits")
    async def press(sid: str, body: Digits) -> dict[str, Any]:
        """The person answering presses digits; the Gather's action gets them (signed)."""
        if sid not in state.calls:
            raise HTTPException(404, "no such call")
        try:
            twiml = await hooks.press(sid, body.digits)
        except LookupError as exc:
            raise HTTPException(409, str(exc)) from exc
        return {"twiml": twiml, "status": state.calls[sid]["status"]}

    @r.post("/calls/{sid}/hangup")
    async def hangup(sid: str, body: Hangup) -> dict[str, Any]:
        """End a call with a final status and send the signed status callback."""
        if sid not in state.calls:
            raise HTTPException(404, "no such call")
        state.calls[sid]["gather"] = None
        await hooks.call_status(sid, body.status)
        return {"status": body.status}

    @r.post("/inbound-sms")
    async def inbound_sms(body: InboundSms) -> dict[str, Any]:
        """A phone texts the single number: the signed webhook goes to the gateway's
        `/twilio/sms`; answers with the gateway's status and TwiML."""
        to = body.to or state.default_to
        try:
            resp = await hooks.inbound_sms(body.from_, to, body.body)
        except LookupError as exc:
            raise HTTPException(409, str(exc)) from exc
        if resp is None:
            raise HTTPException(502, "the gateway did not answer")
        return {"status": resp.status_code, "twiml": resp.text}

    return r
