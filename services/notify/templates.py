"""Every text notify sends, rendered from `Facts` alone: reference, urgency, deadline, code.

The renderer is never given a person's name, number, address, NHS number or story, so no
template can leak one. Every SMS template is GSM-7 and at most two segments (a test checks
each with the longest values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twilio.twiml.voice_response import VoiceResponse

try:
    LOCAL = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # a machine without time-zone data still says when, in UTC
    LOCAL = ZoneInfo("UTC")

URGENCY_WORDS = {"emergency": "EMERGENCY", "very_urgent": "very urgent", "urgent": "urgent",
                 "routine": "routine"}
ALERT_WORDS = {"sla_at_risk": "deadline at risk", "sla_breached": "deadline missed",
               "nobody_fits": "no key worker fits", "send_failed": "message failed",
               "worker_stopped": "key worker opted out of SMS", "crisis": "crisis contact",
               "no_answer": "no key worker has accepted",
               "dead_letter": "a message could not be passed on"}


@dataclass(frozen=True, slots=True)
class Facts:
    """All a template may say."""

    reference: str
    urgency: str
    respond_by: datetime | None = None
    code: str | None = None
    alert: str | None = None  # an alert kind from ALERT_WORDS, never free text


def when(at: datetime | None) -> str:
    """`14:30 22 Nov` in London time."""
    return at.astimezone(LOCAL).strftime("%H:%M %d %b") if at else "as soon as you can"


def _urgency(facts: Facts) -> str:
    return URGENCY_WORDS.get(facts.urgency, "urgent")


def _article(word: str) -> str:
    """"an EMERGENCY", "an urgent", "a very urgent", "a routine" (every urgency word is
    spoken as it is spelt, so its first letter decides)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def handoff(f: Facts) -> str:
    return (f"Living Well Line: new handoff {f.reference}, {_urgency(f)}, respond by "
            f"{when(f.respond_by)}. Reply ACCEPT {f.code} or DECLINE {f.code}")


def reminder(f: Facts) -> str:
    return (f"Living Well Line reminder: handoff {f.reference} ({_urgency(f)}) is waiting, "
            f"respond by {when(f.respond_by)}. Reply ACCEPT {f.code} or DECLINE {f.code}")


def escalation(f: Facts) -> str:
    return (f"Living Well Line escalation: nobody has accepted {f.reference} ({_urgency(f)}), "
            f"respond by {when(f.respond_by)}. Please check the handoff queue.")


def coordinator_alert(f: Facts) -> str:
    what = ALERT_WORDS.get(f.alert or "", "needs attention")
    return (f"Living Well Line alert: {what}. {f.reference} ({_urgency(f)}), respond by "
            f"{when(f.respond_by)}. Please check the handoff queue.")


def _your_reference(f: Facts) -> str:
    return f" Your reference is {f.reference}." if f.reference else ""


def caller_confirmation(f: Facts) -> str:
    return (f"Living Well Line: thank you for your message.{_your_reference(f)} We will call you "
            f"back by {when(f.respond_by)}. In danger now: call 999. Urgent help: NHS 111 "
            "option 2. Samaritans 116 123. Text SHOUT to 85258.")


def crisis_signposting(f: Facts) -> str:
    return ("Living Well Line: we could not answer your call just now and we will call you "
            f"back.{_your_reference(f)} In danger now: call 999. Urgent help: NHS 111 option 2."
            " Samaritans 116 123. Text SHOUT to 85258.")


SMS_TEMPLATES: dict[str, Callable[[Facts], str]] = {
    "handoff": handoff, "reminder": reminder, "escalation": escalation,
    "coordinator_alert": coordinator_alert, "caller_confirmation": caller_confirmation,
    "crisis_signposting": crisis_signposting,
}

# Answers to a key worker's SMS reply (sent back by intake as the webhook's TwiML).
REPLIES: dict[str, Callable[[Facts], str]] = {
    "accepted": lambda f: f"Accepted {f.reference}. Thank you.",
    "declined": lambda f: f"Declined {f.reference}. It will be offered to someone else.",
    "already_accepted": lambda f: f"You have already accepted {f.reference}.",
    "already_taken": lambda f: f"{f.reference} has already been taken by another key worker.",
    "closed": lambda f: f"{f.reference} is no longer open for you; nothing to do.",
    "help": lambda f: ("Living Well Line: reply ACCEPT or DECLINE and the code from the handoff"
                       " SMS, e.g. ACCEPT K7M2QX."),
}


def spoken_reference(reference: str) -> str:
    """`LW-7K3M-Q9XA` read out one character at a time."""
    return ", ".join(" ".join(part) for part in reference.split("-"))


def handoff_call(f: Facts, action_url: str) -> str:
    """TwiML of the handoff call: press 1 to accept, 2 to decline."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url, method="POST", timeout=10)
    what = _urgency(f)
    gather.say(f"Living Well Line. {_article(what).capitalize()} {what} handoff for reference "
               f"{spoken_reference(f.reference)}, respond by {when(f.respond_by)}. "
               "Press 1 to accept, or 2 to decline.", voice="alice", language="en-GB")
    response.say("We did not hear a choice. You can also reply to the text message. Goodbye.",
                 voice="alice", language="en-GB")
    return str(response)


def call_answer(text: str, retry_url: str | None = None) -> str:
    """TwiML that says `text` (and asks again at `retry_url` when given)."""
    response = VoiceResponse()
    if retry_url:
        gather = response.gather(num_digits=1, action=retry_url, method="POST", timeout=10)
        gather.say(text, voice="alice", language="en-GB")
    else:
        response.say(text, voice="alice", language="en-GB")
    return str(response)


def render(kind: str, facts: Facts) -> str:
    """The text of SMS template `kind`."""
    return SMS_TEMPLATES[kind](facts)
