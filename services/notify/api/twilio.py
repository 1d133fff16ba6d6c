"""Twilio's callbacks, forwarded by the gateway after it checked `X-Twilio-Signature`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.common.deps import SessionDep
from services.notify import delivery, replies
from services.notify.deps import NotifyDep
from services.notify.templates import call_answer

router = APIRouter(prefix="/twilio/status", tags=["twilio"])
TWIML = "application/xml"
# What the call says to each result of a keypress (`replies.keypress`).
WORDS = {"accepted": "Accepted. Thank you. The details are on the handoff queue. Goodbye.",
         "declined": "Declined. It will be offered to someone else. Goodbye.",
         "already_accepted": "You have already accepted this handoff. Goodbye.",
         "already_taken": "This handoff has already been taken by another key worker. Goodbye.",
         "closed": "This handoff is no longer open for you. Goodbye.",
         "not_this_call": "This call is not for an open handoff. Goodbye."}


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@router.post("", status_code=204, response_class=Response)
async def status_callback(request: Request, session: SessionDep, own: NotifyDep) -> Response:
    """Message and call status callbacks (`MessageSid`+`MessageStatus`, `CallSid`+`CallStatus`,
    `ErrorCode` on failure). Repeats and out-of-order callbacks are harmless."""
    form = await request.form()
    sid = str(form.get("MessageSid") or form.get("CallSid") or "")
    status = str(form.get("MessageStatus") or form.get("CallStatus") or "")
    if sid and status:
        await delivery.record_status(session, own, sid, status, _int(form.get("ErrorCode")))
    return Response(status_code=204)


@router.post("/handoff-call/{handoff_id}", response_class=Response,
             responses={200: {"content": {TWIML: {}}}})
async def handoff_call_keypress(handoff_id: str, request: Request, session: SessionDep,
                                own: NotifyDep) -> Response:
    """The key worker pressed a key on the handoff call: 1 accepts, 2 declines. Answers TwiML."""
    form = await request.form()
    result = await replies.keypress(session, own, handoff_id, str(form.get("CallSid") or ""),
                                    str(form.get("Digits") or ""))
    if result == "ask_again":
        return Response(call_answer("Press 1 to accept, or 2 to decline.",
                                    retry_url=own.callback_url(f"/handoff-call/{handoff_id}")),
                        media_type=TWIML)
    return Response(call_answer(WORDS[result]), media_type=TWIML)
