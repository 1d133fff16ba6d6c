"""Signposting: a key worker sends a person a network service's public details, with the
person's agreement, by SMS or email, once however often the form is sent.

The message carries the service's name, phone, web address and opening times and nothing
about the person. A text goes to notify, which renders and sends it (GSM-7, at most two
segments); an email goes to intake, which holds the line's mail transport. The person's
number or address travels only as the message's recipient, like every message to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import outbox
from services.common.context import Actor
from services.common.errors import invalid
from services.common.ids import new_id
from services.common.phone import person_number
from services.referral.directory import repository
from services.referral.directory.models import Phone, Schedule, Signpost
from services.referral.models import OutboxMessage, Referral, ReferralNote

DAY_WORDS = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat",
             "SU": "Sun"}
NOTIFY_PATH = "/internal/signpost-messages"
INTAKE_PATH = "/internal/signpost-emails"
# How each channel is named in the note on the person's story.
CHANNEL_WORDS = {"sms": "SMS", "email": "email"}


@dataclass(frozen=True, slots=True)
class Details:
    """What a person is sent: the service's public details only."""

    name: str
    phone: str | None
    url: str | None
    opening: str | None


def _days(byday: str | None) -> str:
    codes = [d.strip().upper()[-2:] for d in (byday or "").split(",") if d.strip()]
    if not codes or len(codes) == 7:
        return "Daily"
    if codes == ["MO", "TU", "WE", "TH", "FR"]:
        return "Mon-Fri"
    return "/".join(DAY_WORDS.get(c, c) for c in codes)


def opening(schedules: list[Schedule]) -> str | None:
    """`Mon-Fri 09:00-17:00, Sat 10:00-13:00`, from the weekly schedules."""
    parts = [f"{_days(s.byday)} {s.opens_at[:5]}-{s.closes_at[:5]}"
             for s in sorted(schedules, key=lambda s: s.position)
             if s.opens_at and s.closes_at and s.freq in (None, "WEEKLY")]
    return ", ".join(parts) or None


async def details(session: AsyncSession, service_id: str) -> Details | None:
    parts = await repository.service_parts(session, service_id)
    if parts is None or parts.service.status != "active":
        return None
    phones = sorted((c for c in parts.children if isinstance(c, Phone)),
                    key=lambda p: p.position)
    schedules = [c for c in parts.children if isinstance(c, Schedule)]
    return Details(name=parts.service.name, phone=phones[0].number if phones else None,
                   url=parts.service.url, opening=opening(schedules))


def _mobile(referral: Referral) -> str:
    raw = (referral.subject or {}).get("phone")
    found = person_number(raw) if isinstance(raw, str) else None
    if found is None:
        raise invalid(["body", "channel"], "There is no phone number to text on this referral.")
    return found.e164


def _address(referral: Referral) -> str:
    raw = (referral.subject or {}).get("email")
    if isinstance(raw, str):
        try:
            return str(validate_email(raw.strip(), check_deliverability=False).normalized)
        except EmailNotValidError:
            pass
    raise invalid(["body", "channel"], "There is no email address on this referral.")


def _recipient(referral: Referral, channel: str) -> tuple[str, str, str]:
    """Who the message goes to on this channel, and which service sends it (target, path)."""
    if channel == "email":
        return _address(referral), "intake", INTAKE_PATH
    return _mobile(referral), "notify", NOTIFY_PATH


async def send(session: AsyncSession, referral: Referral, *, service_id: str, channel: str,
               agreed: bool, key: str, actor: Actor, now: datetime) -> tuple[Signpost, bool]:
    """Record and send once per `key`: (the signpost, whether it is new)."""
    dedupe = f"{referral.id}:{key}"
    if (done := await repository.signpost_by_key(session, dedupe)) is not None:
        return done, False
    if not agreed:
        raise invalid(["body", "agreed"], "Ask the person first and record that they agreed.")
    found = await details(session, service_id)
    if found is None:
        raise invalid(["body", "service_id"], "No such active service in the directory.")
    to, target, path = _recipient(referral, channel)
    signpost = Signpost(id=new_id(), idempotency_key=dedupe, referral_id=referral.id,
                        person_id=referral.person_id, service_id=service_id,
                        service_name=found.name, channel=channel, agreed=True,
                        sent_by=actor.person_id or actor.key_id, created_at=now)
    session.add(signpost)
    session.add(ReferralNote(id=new_id(), referral_id=referral.id, kind="signpost",
                             text=f"Sent the details of {found.name} by "
                                  f"{CHANNEL_WORDS[channel]}, with the person's agreement.",
                             org=actor.person_id, created_at=now))
    payload: dict[str, Any] = {"message_key": signpost.id, "to": to, "name": found.name,
                               "phone": found.phone, "url": found.url,
                               "opening": found.opening}
    outbox.enqueue(session, OutboxMessage, key=f"signpost:{signpost.id}", target=target,
                   path=path, payload=payload, now=now)
    await session.flush()
    return signpost, True


async def name_on_close(session: AsyncSession, referral: Referral, service_id: str,
                        actor: Actor, now: datetime) -> None:
    """A referral closed as `signposted` names the service (no message is sent)."""
    found = await details(session, service_id)
    if found is None:
        raise invalid(["body", "service_id"], "No such active service in the directory.")
    dedupe = f"{referral.id}:close"
    if await repository.signpost_by_key(session, dedupe) is None:
        session.add(Signpost(id=new_id(), idempotency_key=dedupe, referral_id=referral.id,
                             person_id=referral.person_id, service_id=service_id,
                             service_name=found.name, channel="close", agreed=True,
                             sent_by=actor.person_id or actor.key_id, created_at=now))
