"""`/twilio/sms`: every text to the single number."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from services.common.deps import ClockDep, SessionDep
from services.intake import sms
from services.intake.api.twiml import TWIML_RESPONSES, twilio_form, twiml
from services.intake.deps import IntakeDep

router = APIRouter(prefix="/twilio", tags=["SMS (Twilio)"])


def _reply(text: str | None) -> Response:
    doc = MessagingResponse()
    if text:
        doc.message(text)
    return twiml(doc)


@router.post("/sms", response_class=Response, responses=TWIML_RESPONSES)
async def incoming_sms(request: Request, session: SessionDep, intake: IntakeDep,
                       clock: ClockDep) -> Response:
    """A text to the single number (Twilio's Messaging webhook, signature-checked by the
    gateway). STOP and START are honoured. A key worker's ACCEPT/DECLINE reply goes to notify
    and never becomes a contact. Anything else from a person becomes a contact (once per
    `MessageSid`) and is answered with a `<Message>`: a reference and when we will reply, or at
    once the 999 / Samaritans / Shout numbers when it carries crisis language (which also raises
    an emergency referral and alerts the duty worker). Later texts join the open referral."""
    form = await twilio_form(request, "MessageSid")
    now = clock.now()
    word = sms.keyword(form.get("Body", ""))
    if word is not None:
        if word == "stop":
            # A key worker opting out mid-handoff must reach notify, which alerts the duty
            # coordinator and switches to calls; through the outbox if it cannot answer now.
            stop_verdict = await sms.ask_notify(intake, form)
            if stop_verdict is None:
                await sms.defer_reply(session, form, now)
        return _reply(await sms.opt(session, intake, form.get("From"), word, now))
    verdict = await sms.ask_notify(intake, form)
    if verdict is not None and verdict.get("handled"):
        reply = verdict.get("reply")
        return _reply(reply if isinstance(reply, str) else None)
    if verdict is None and sms.REPLY_CODE.match(form.get("Body", "")):
        await sms.defer_reply(session, form, now)
        return _reply(intake.replies.sms.reply_pending)
    return _reply(await sms.from_person(session, intake, form, now))
