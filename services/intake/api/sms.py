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
    return _reply(await sms.receive(session, intake, form, clock.now()))
