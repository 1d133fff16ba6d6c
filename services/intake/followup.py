"""What follows a contact: self-referrals, texts to the caller, crisis alerts and callbacks.

All of it goes through intake's outbox in the request's transaction, so a slow or stopped
referral or notify service delays the work and never loses it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.ids import new_id, new_reference
from services.common.outbox import PRIORITY, enqueue
from services.common.phone import may_text
from services.intake import repository
from services.intake.models import OutboxMessage, ReferralLink
from services.intake.wording import Replies

SELF_REFERRAL_HANDLER = "intake.self_referral_created"
RISK_RANK = {"crisis": 0, "high": 1, "medium": 2, "routine": 3}
NO_RISK = {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
           "safeguarding": False}


async def open_referral(session: AsyncSession, person_id: str | None, now: datetime,
                        days: int, *, urgency: str | None = None) -> ReferralLink | None:
    """The person's referral a new message should join, if one is recent enough (of that
    `urgency` only, when given: a crisis joins an open emergency referral, not a routine one)."""
    if person_id is None:
        return None
    return await repository.open_link_for_person(session, person_id, now - timedelta(days=days),
                                                 urgency=urgency)


async def enqueue_self_referral(
    session: AsyncSession, *, contact_id: str, person_id: str | None, source: str,
    reason: str, urgency: str, risk: dict[str, bool] | None, now: datetime,
    key_suffix: str = "",
) -> str:
    """Allocate a reference now and ask referral to route it (through the outbox)."""
    reference = new_reference()
    await repository.add_link_if_new(session, {
        "reference": reference, "referral_id": None, "person_id": person_id, "source": source,
        "urgency": urgency, "respond_by": None, "opened_at": now})
    payload: dict[str, Any] = {
        "reference": reference, "source": source, "contact_id": contact_id,
        "person_id": person_id, "reason": reason, "risk": risk or dict(NO_RISK),
        "urgency": urgency, "postcode": None, "needs": []}
    key = f"referral:{contact_id}" + (f":{key_suffix}" if key_suffix else "")
    enqueue(session, OutboxMessage, key=key, target="referral",
            path="/internal/referrals", payload=payload, now=now,
            reply_handler=SELF_REFERRAL_HANDLER)
    return reference


async def self_referral_created(session: AsyncSession, payload: dict[str, Any], body: Any,
                                now: datetime) -> None:
    """Referral answered `POST /internal/referrals`: remember its id and deadline; a caller who
    left a support message (option 2), or a website contact who asked to hear back by text or
    phone, is texted the reference and when we will call back (through the outbox)."""
    if not isinstance(body, dict) or "referral_id" not in body:
        return
    link = await repository.get_link(session, payload["reference"])
    if link is None:
        return
    link.referral_id = str(body["referral_id"])
    link.urgency = str(body.get("urgency") or link.urgency)
    respond_by = body.get("respond_by")
    if isinstance(respond_by, str):
        link.respond_by = datetime.fromisoformat(respond_by.replace("Z", "+00:00"))
    contact = await repository.get_contact(session, payload["contact_id"])
    # Only the contact's own referral confirms it: a crisis referral raised later from the
    # same call's transcription is told by its own crisis text (calls.transcribed).
    # A website contact who asked to hear back by text or phone (web.TEXT_BACK) is told
    # the same, with the respond-by time only referral knows.
    if contact is not None and contact.reference == link.reference and (
            (contact.channel == "voice" and contact.ivr_choice == "support")
            or (contact.channel == "web" and contact.outcome == "text_back")):
        await text_person(session, to=contact.from_address, template="caller_confirmation",
                          reference=link.reference, respond_by=link.respond_by,
                          key=f"{contact.id}:caller_confirmation", now=now)


async def text_person(session: AsyncSession, *, to: str | None, template: str,
                      reference: str | None, respond_by: datetime | None, key: str,
                      now: datetime) -> bool:
    """Ask notify to text a person a template (reference and times only); False if we may not."""
    if not to or not may_text(to) or await repository.is_opted_out(session, to):
        return False
    if await repository.outbox_key_taken(session, f"person-message:{key}"):
        return True  # asked before (a repeated webhook or reply): one text per key, ever
    enqueue(session, OutboxMessage, key=f"person-message:{key}", target="notify",
            path="/internal/person-messages", now=now,
            priority=PRIORITY["emergency"] if template == "crisis_signposting" else None,
            payload={
                "message_key": key, "to": to, "template": template, "reference": reference,
                "respond_by": respond_by.isoformat() if respond_by else None})
    return True


async def enqueue_crisis_alert(session: AsyncSession, *, contact_id: str,
                               reference: str | None, now: datetime,
                               referral_id: str | None = None) -> None:
    """Alert the on-duty duty coordinators now (notify texts each), before any referral is
    routed; once per contact, however often Twilio repeats the request that raised it."""
    if await repository.outbox_key_taken(session, f"alert:crisis:{contact_id}"):
        return
    enqueue(session, OutboxMessage, key=f"alert:crisis:{contact_id}", target="notify",
            path="/internal/alerts", now=now, payload={
                "alert_key": f"crisis:{contact_id}", "kind": "crisis", "reference": reference,
                "referral_id": referral_id, "urgency": "emergency",
                "respond_by": now.isoformat()})


async def add_callback(session: AsyncSession, replies: Replies, *, contact_id: str,
                       person_id: str | None, channel: str, reason: str, risk: str,
                       reference: str | None, now: datetime) -> bool:
    """Put a person on the callback list (once per contact and reason; a person already
    waiting for a crisis callback gets no second one, so one story is one call back)."""
    if risk == "crisis" and person_id is not None \
            and await repository.open_crisis_callback(session, person_id) is not None:
        return False
    due = now + timedelta(minutes=replies.callbacks.get(risk, 240))
    return await repository.add_callback_if_new(session, {
        "id": new_id(), "contact_id": contact_id, "person_id": person_id, "channel": channel,
        "reason": reason, "risk": risk, "risk_rank": RISK_RANK[risk], "reference": reference,
        "due_at": due, "status": "open", "attempts": 0, "created_at": now, "closed_at": None})
