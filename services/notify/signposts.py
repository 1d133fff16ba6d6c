"""A network service's public details texted to a person (referral's signposting).

The text is built from the service's public facts alone (name, phone, web address, opening
times): never anything about the person. It is made GSM-7 (typographic punctuation becomes
its plain form, anything else is dropped) and cut to at most two segments, shortening the
opening times, then the web address, then the name, never the phone number.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.gsm import BASIC, EXTENDED, segments
from services.notify.messages import queue_once
from services.notify.models import Message

MAX_SEGMENTS = 2
PLAIN = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
         "\u2014": "-", "\u2026": "...", "\u00a0": " "}


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


async def queue_signpost(session: AsyncSession, *, message_key: str, to: str, name: str,
                         phone: str | None, url: str | None, opening: str | None,
                         now: datetime) -> Message:
    """Text a person a network service's public details, once per `message_key`."""
    return await queue_once(session, key=f"signpost:{message_key}", kind="signpost", to=to,
                            body=service_details(name, phone, url, opening), now=now,
                            urgency="routine")
