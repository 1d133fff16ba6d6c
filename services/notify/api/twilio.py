"""Twilio's callbacks, forwarded by the gateway after it checked `X-Twilio-Signature`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.common.deps import SessionDep
from services.notify import delivery, replies, repository
from services.notify.context import NotifyDep
from services.notify.templates import call_answer

router = APIRouter(prefix="/twilio/status", tags=["twilio"])
TWIML = "application/xml"


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@router.post("", status_code=204, response_class=Response)
async def status_callback(request: Request, session: SessionDep, ctx: NotifyDep) -> Response:
    """Message and call status callbacks (`MessageSid`+`MessageStatus`, `CallSid`+`CallStatus`,
    `ErrorCode` on failure). Repeats and out-of-order callbacks are harmless."""
    form = await request.form()
    sid = str(form.get("MessageSid") or form.get("CallSid") or "")
    status = str(form.get("MessageStatus") or form.get("CallStatus") or "")
    if sid and status:
        await delivery.record_status(session, ctx, sid, status, _int(form.get("ErrorCode")))
    return Response(status_code=204)


@router.post("/handoff-call/{handoff_id}", response_class=Response,
             responses={200: {"content": {TWIML: {}}}})
async def handoff_call_keypress(handoff_id: str, request: Request, session: SessionDep,
                                ctx: NotifyDep) -> Response:
    """The key worker pressed a key on the handoff call: 1 accepts, 2 declines. Answers TwiML."""
    form = await request.form()
    call = await repository.message_by_sid(session, str(form.get("CallSid") or ""))
    h = await repository.lock_handoff(session, handoff_id)
    if h is None or call is None or call.handoff_id != handoff_id:
        return Response(call_answer("This call is not for an open handoff. Goodbye."),
                        media_type=TWIML)
    digits = str(form.get("Digits") or "")
    if digits not in ("1", "2"):
        return Response(call_answer("Press 1 to accept, or 2 to decline.",
                                    retry_url=ctx.callback_url(f"/handoff-call/{h.id}")),
                        media_type=TWIML)
    result = await replies.decide(session, ctx, h, "accept" if digits == "1" else "decline")
    words = {"accepted": "Accepted. Thank you. The details are on the handoff queue.",
             "declined": "Declined. It will be offered to someone else.",
             "already_accepted": "You have already accepted this handoff.",
             "already_taken": "This handoff has already been taken by another key worker.",
             "closed": "This handoff is no longer open for you."}
    return Response(call_answer(words[result] + " Goodbye."), media_type=TWIML)
