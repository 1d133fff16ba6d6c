"""The voice fail-safe: what a caller hears when intake cannot answer in time.

It never ends in silence: the 999 instruction, then the crisis line when one is configured,
then NHS 111 and Samaritans.
"""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

SAY = {"voice": "Polly.Amy", "language": "en-GB"}
DANGER = ("This is the Living Well Line. If you or someone else is in immediate danger, "
          "hang up and call 999 now.")
CONNECTING = "We are connecting you to a crisis worker now. Please stay on the line."
NO_LINE = ("We cannot connect your call right now. For urgent mental health help, call NHS 111 "
           "and choose the mental health option, or call Samaritans free on 116 123, at any time. "
           "If anyone is in danger, call 999.")


def failsafe_twiml(crisis_line: str | None) -> str:
    """TwiML for a call intake could not answer."""
    response = VoiceResponse()
    response.say(DANGER, **SAY)
    if crisis_line:
        response.say(CONNECTING, **SAY)
        response.dial(crisis_line, timeout=30)
    response.say(NO_LINE, **SAY)
    response.pause(length=1)
    response.say(NO_LINE, **SAY)
    return str(response)


SMS_ACK = ("Living Well Line: we have your message and will reply as soon as we can. If anyone "
           "is in danger call 999. Samaritans 116 123, text SHOUT to 85258.")


def sms_holding_twiml() -> str:
    """TwiML reply for an SMS accepted into the spool while intake is unavailable."""
    response = MessagingResponse()
    response.message(SMS_ACK)
    return str(response)
