"""`/twilio/voice…`: the IVR. Twilio posts form fields; every answer is TwiML."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from services.common.deps import ClockDep, SessionDep
from services.intake import calls, ivr
from services.intake.api.twiml import TWIML_RESPONSES, twilio_form, twiml
from services.intake.deps import Intake, IntakeDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/voice", tags=["voice (Twilio)"])
Purpose = Annotated[str, Query(pattern="^(support|professional|key_worker)$")]


async def _safely(session: AsyncSession, intake: Intake, step: Awaitable[VoiceResponse],
                  name: str) -> Response:
    """Run a step; if it fails, undo its writes and still give the caller the safe route."""
    try:
        return twiml(await step)
    except Exception:
        with contextlib.suppress(Exception):  # the database may be what failed
            await session.rollback()
        return _fail_safe(intake, name)


def _fail_safe(intake: Intake, step: str) -> Response:
    log.exception("voice step failed; answered with the fail-safe",
                  extra={"event": "call.step_failed", "step": step})
    settings = intake.kit.settings
    response = twiml(ivr.fail_safe(intake.script, settings.crisis_line_number,
                                   settings.twilio_phone_number))
    # Tells the gateway this webhook was answered but not recorded, so it keeps it for replay.
    response.headers["x-livewell-unrecorded"] = "1"
    return response


@router.post("", response_class=Response, responses=TWIML_RESPONSES)
async def incoming_call(request: Request, intake: IntakeDep) -> Response:
    """A call to the single number (Twilio's Voice webhook, already signature-checked by the
    gateway). Records the call as a contact (once per `CallSid`) and answers the greeting and
    menu: 1 crisis, 2 support or a call back, 3 professionals, 4 (recognised callers only) the
    key worker. Wording comes from `services/intake/data/ivr.yaml`."""
    form = await twilio_form(request, "CallSid")
    try:
        greeting = await calls.answer(intake, form, intake.kit.clock.now())
    except Exception:
        return _fail_safe(intake, "answer")
    return Response(content=greeting, media_type="text/xml")


@router.post("/menu", response_class=Response, responses=TWIML_RESPONSES)
async def menu(request: Request, session: SessionDep, intake: IntakeDep, clock: ClockDep,
               attempt: Annotated[int, Query(ge=1, le=9)] = 1,
               kw: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    """The caller's key press (`Digits`) or its absence; no or invalid input twice goes to the
    crisis route rather than hanging up."""
    form = await twilio_form(request, "CallSid")
    step = calls.menu_choice(session, intake, form, attempt=attempt, offer_key_worker=kw == 1,
                             now=clock.now())
    return await _safely(session, intake, step, "menu")


@router.post("/crisis", response_class=Response, responses=TWIML_RESPONSES)
async def crisis(request: Request, session: SessionDep, intake: IntakeDep, clock: ClockDep,
                 tier: Annotated[int, Query(ge=0, le=9)] = 0) -> Response:
    """`Dial` action of the crisis route: if nobody answered (`DialCallStatus`), ring the next
    tier (crisis duty, duty coordinator, backup manager, external crisis line), and finally say
    the 999 / NHS 111 instruction."""
    form = await twilio_form(request, "CallSid")
    step = calls.crisis_dialled(session, intake, form, tier=tier, now=clock.now())
    return await _safely(session, intake, step, "crisis")


@router.post("/keyworker-dial", response_class=Response, responses=TWIML_RESPONSES)
async def keyworker_dial(request: Request, session: SessionDep, intake: IntakeDep,
                         clock: ClockDep) -> Response:
    """`Dial` action after ringing the caller's key worker: a message is taken if they did not
    answer."""
    form = await twilio_form(request, "CallSid")
    return await _safely(session, intake,
                         calls.key_worker_dialled(session, intake, form, clock.now()),
                         "keyworker-dial")


@router.post("/recorded", response_class=Response, responses=TWIML_RESPONSES)
async def recorded(request: Request, session: SessionDep, intake: IntakeDep, clock: ClockDep,
                   purpose: Purpose,
                   empty: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    """`Record` action: the caller finished their message. Option 2 creates a self-referral and
    reads out the reference; options 3 and 4 put the caller on the callback list."""
    form = await twilio_form(request, "CallSid")
    step = calls.recorded(session, intake, form, purpose=purpose, empty=empty == 1,
                          now=clock.now())
    return await _safely(session, intake, step, "recorded")


@router.post("/recording", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def recording_status(request: Request, session: SessionDep, clock: ClockDep,
                           purpose: Purpose) -> Response:
    """`recordingStatusCallback`: keeps the recording's URL with the call's contact."""
    form = await twilio_form(request, "CallSid")
    await calls.recording_ready(session, form, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/transcription", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def transcription(request: Request, session: SessionDep, intake: IntakeDep,
                        clock: ClockDep, purpose: Purpose) -> Response:
    """`transcribeCallback`: keeps the text; crisis language in it alerts the duty coordinator
    and puts the caller at the top of the callback list."""
    form = await twilio_form(request, "CallSid")
    await calls.transcribed(session, intake, form, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def call_status(request: Request, session: SessionDep, intake: IntakeDep,
                      clock: ClockDep) -> Response:
    """Call status callback (set it on the phone number): a call that ended without reaching a
    human or leaving a message becomes a callback, crisis calls first."""
    form = await twilio_form(request, "CallSid")
    await calls.call_status(session, intake, form, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
