"""The phone menu as TwiML: pure functions from the wording and the call's state to a response.

Every response ends in a `Gather` (whose fall-through redirects back to the menu step), a
`Dial` with an `action` (Twilio asks what next when it ends), a `Record` followed by a
`Redirect`, or a spoken instruction and `Hangup`: a caller is never left in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from services.intake.wording import IvrScript

Choice = Literal["crisis", "support", "professional", "key_worker", "retry"]
MAX_ATTEMPTS = 2
GATHER_TIMEOUT = 6
DIAL_TIMEOUT = 20
RECORD_MAX_SECONDS = 180
# Crisis route in dial order: the duty rota's roles, then the external crisis line.
CRISIS_TIERS: tuple[str, ...] = ("crisis_duty", "duty_coordinator", "backup_manager",
                                 "crisis_line")
ANSWERED = frozenset({"completed", "answered"})


class Urls:
    """Absolute callback URLs under `/twilio/voice/`, on the public base the gateway signs."""

    def __init__(self, public_base_url: str) -> None:
        self.base = public_base_url.rstrip("/") + "/twilio/voice"

    def step(self, name: str, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}/{name}" + (f"?{query}" if query else "")


def choose(digits: str | None, attempt: int, offer_key_worker: bool) -> Choice:
    """What a key press means; no or unknown input twice is the crisis route, not a hang-up."""
    options: dict[str, Choice] = {"1": "crisis", "2": "support", "3": "professional"}
    if offer_key_worker:
        options["4"] = "key_worker"
    picked = options.get((digits or "").strip()[:1])
    if picked is not None:
        return picked
    return "crisis" if attempt >= MAX_ATTEMPTS else "retry"


def _say(vr: VoiceResponse | Gather, script: IvrScript, text: str) -> None:
    vr.say(text, voice=script.voice, language=script.language)


def menu(script: IvrScript, urls: Urls, *, attempt: int, offer_key_worker: bool) -> VoiceResponse:
    """The greeting (first time) or a re-prompt, then the menu in a Gather."""
    vr = VoiceResponse()
    _say(vr, script, script.greeting if attempt == 1 else script.not_understood)
    action = urls.step("menu", attempt=attempt, kw=1 if offer_key_worker else None)
    gather = Gather(num_digits=1, action=action, method="POST", timeout=GATHER_TIMEOUT,
                    action_on_empty_result=True)
    words = script.menu + (" " + script.key_worker_option if offer_key_worker else "")
    _say(gather, script, words)
    vr.append(gather)
    vr.redirect(action, method="POST")  # no key pressed: the menu step counts it
    return vr


def dial(script: IvrScript, urls: Urls, *, numbers: Sequence[str], caller_id: str,
         say: str, action: str) -> VoiceResponse:
    """Ring `numbers` together (first to answer takes the call); `action` decides what next."""
    vr = VoiceResponse()
    _say(vr, script, say)
    d = Dial(action=action, method="POST", timeout=DIAL_TIMEOUT, caller_id=caller_id,
             answer_on_bridge=True)
    for number in numbers:
        d.number(number)
    vr.append(d)
    return vr


def crisis_dial(script: IvrScript, urls: Urls, *, tier: int, numbers: Sequence[str],
                caller_id: str, first: bool) -> VoiceResponse:
    """One step of the crisis route; a no-answer comes back for the next tier."""
    if CRISIS_TIERS[tier] == "crisis_line":
        words = script.crisis.crisis_line
    else:
        words = script.crisis.connecting if first else script.crisis.trying_next
    return dial(script, urls, numbers=numbers, caller_id=caller_id, say=words,
                action=urls.step("crisis", tier=tier + 1))


def crisis_end(script: IvrScript) -> VoiceResponse:
    """Nobody could be reached: the 999 / NHS 111 instruction, said twice, then goodbye."""
    vr = VoiceResponse()
    _say(vr, script, script.crisis.no_one_available)
    vr.pause(length=1)
    _say(vr, script, script.crisis.no_one_available)
    _say(vr, script, script.crisis.goodbye)
    vr.hangup()
    return vr


def goodbye(script: IvrScript, *lines: str) -> VoiceResponse:
    """Say `lines`, then goodbye, then hang up."""
    vr = VoiceResponse()
    for line in lines:
        _say(vr, script, line)
    _say(vr, script, script.crisis.goodbye)
    vr.hangup()
    return vr


def record(script: IvrScript, urls: Urls, *, purpose: str, prompt: str) -> VoiceResponse:
    """Take a message; recording and transcription callbacks come back to intake."""
    vr = VoiceResponse()
    _say(vr, script, prompt)
    vr.record(
        action=urls.step("recorded", purpose=purpose), method="POST",
        max_length=RECORD_MAX_SECONDS, timeout=5, play_beep=True, finish_on_key="#",
        recording_status_callback=urls.step("recording", purpose=purpose),
        recording_status_callback_method="POST",
        transcribe=True, transcribe_callback=urls.step("transcription", purpose=purpose),
    )
    # Record falls through only when nothing was heard: the same step handles that.
    vr.redirect(urls.step("recorded", purpose=purpose, empty=1), method="POST")
    return vr


def spoken_reference(reference: str) -> str:
    """`LW-7K3M-Q9XA` as a voice reads it clearly: `L W. 7 K 3 M. Q 9 X A.`"""
    return " ".join(" ".join(part) + "." for part in reference.split("-"))


def fail_safe(script: IvrScript, crisis_line: str | None, caller_id: str) -> VoiceResponse:
    """When a step itself fails: the 999 instruction and the crisis line, never silence."""
    vr = VoiceResponse()
    _say(vr, script, script.greeting)
    if crisis_line:
        _say(vr, script, script.crisis.crisis_line)
        d = Dial(timeout=DIAL_TIMEOUT, caller_id=caller_id)
        d.number(crisis_line)
        vr.append(d)
    _say(vr, script, script.crisis.no_one_available)
    vr.hangup()
    return vr
