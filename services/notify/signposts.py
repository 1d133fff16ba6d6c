"""A network service's public details texted to a person (referral's signposting).

The text is built from the service's public facts alone (name, phone, web address, opening
times): never anything about the person. It is made GSM-7 (typographic punctuation becomes
its plain form, anything else is dropped) and cut to at most two segments, shortening the
opening times, then the web address, then the name, never the phone number.
"""

from __future__ import annotations

import unicodedata

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.common.deps import SessionDep
from services.common.phone import PersonPhone
from services.notify import handoffs, repository
from services.notify.context import NotifyDep
from services.notify.gsm import BASIC, EXTENDED, segments
from services.notify.schemas import MessageQueued

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)
MAX_SEGMENTS = 2
PLAIN = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
         "\u2014": "-", "\u2026": "...", "\u00a0": " "}


class SignpostMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_key: str = Field(min_length=1, max_length=200)
    to: PersonPhone
    name: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=60)
    url: str | None = Field(default=None, max_length=500)
    opening: str | None = Field(default=None, max_length=500)


def gsm7(text: str) -> str:
    """`text` in the GSM-7 alphabet: accents the alphabet lacks and curly quotes made plain."""
    out = []
    for c in text:
        c = PLAIN.get(c, c)
        if all(ch in BASIC or ch in EXTENDED for ch in c):
            out.append(c)
            continue
        base = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
        out.append(base)
    return "".join(out).replace("\n", " ").strip()


def _compose(name: str, phone: str | None, url: str | None, opening: str | None) -> str:
    parts = [f"Living Well Line: as agreed, here are the details of {name}."]
    if phone:
        parts.append(f"Phone {phone}.")
    if url:
        parts.append(f"Web {url}")
    if opening:
        parts.append(f"Open {opening}.")
    parts.append("In danger now: call 999.")
    return " ".join(parts)


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[:max(size - 3, 0)].rstrip() + "..."


def service_details(name: str, phone: str | None, url: str | None,
                    opening: str | None) -> str:
    """The text: GSM-7, at most two segments."""
    name, phone = gsm7(name), gsm7(phone or "") or None
    url, opening = gsm7(url or "") or None, gsm7(opening or "") or None
    text = _compose(name, phone, url, opening)
    for shorten in ("opening", "url", "name"):
        if segments(text) <= MAX_SEGMENTS:
            break
        if shorten == "opening" and opening:
            opening = _cut(opening, 60)
        elif shorten == "url" and url and len(url) > 80:
            url = None  # a cut address is a broken one: leave it out
        elif shorten == "name":
            name = _cut(name, 60)
        text = _compose(name, phone, url, opening)
    if segments(text) > MAX_SEGMENTS:
        text = _compose(_cut(name, 40), phone, None, None)
    return text


@router.post("/signpost-messages", response_model=MessageQueued)
async def signpost_message(body: SignpostMessageIn, session: SessionDep,
                           ctx: NotifyDep) -> MessageQueued:
    """Text a person a network service's public details, once per `message_key`."""
    key = f"signpost:{body.message_key}"
    existing = await repository.message_by_key(session, key)
    if existing is not None:
        return MessageQueued(message_id=existing.id)
    text = service_details(body.name, body.phone, body.url, body.opening)
    msg = await handoffs.queue_message(session, key=key, kind="signpost", channel="sms",
                                       to=body.to, body=text, now=ctx.kit.clock.now(),
                                       urgency="routine")
    assert msg is not None
    return MessageQueued(message_id=msg.id)
