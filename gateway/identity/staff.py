"""Inviting someone to the desk: one way for the operator's CLI (`livewell staff invite`)
and an admin on the desk's staff page, so both audit, link and deliver alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import accounts
from gateway.models import AuditEntry
from services.common.audit import audit
from services.common.context import Actor
from services.common.settings import Settings


@dataclass(frozen=True, slots=True)
class Sent:
    invitation: accounts.Invitation
    url: str


def invitation_email(url: str, expires_at: datetime) -> tuple[str, str]:
    subject = "Your Living Well Line desk invitation"
    body = (f"You have been invited to the Living Well Line desk.\n\n"
            f"Set up your sign-in here (this link works once, until "
            f"{expires_at:%d %B %Y %H:%M} UTC):\n{url}\n")
    return subject, body


async def invite(session: AsyncSession, settings: Settings, actor: Actor, *, email: str,
                 role: str, keyworker_id: str | None, name: str | None, now: datetime,
                 valid_hours: float) -> Sent:
    """Invite (or re-invite) someone, audited as `actor`'s, and send them the link; raises
    AccountError naming the field."""
    inv = await accounts.invite(session, email=email, role=role, keyworker_id=keyworker_id,
                                name=name, now=now, valid_hours=valid_hours)
    audit(session, AuditEntry, actor, "invite", "staff_account", inv.account.id, now)
    url = f"{settings.public_base_url.rstrip('/')}/desk/invite/{inv.token}"
    await deliver(settings, inv.account.email, url, inv.expires_at)
    return Sent(inv, url)


async def deliver(settings: Settings, to: str, url: str, expires_at: datetime) -> None:
    """Email the invitation; in dry-run (no SMTP_URL) write it to var/dry-run/email.jsonl."""
    from services.intake.mail_out import OutgoingEmail, SmtpEmailSender, new_message_id

    subject, body = invitation_email(url, expires_at)
    mail = OutgoingEmail(to=to, sender=settings.email_address, subject=subject, body=body,
                         message_id=new_message_id(settings.email_address))
    if settings.smtp_url:
        await SmtpEmailSender(settings.smtp_url).send(mail)
        return
    path = settings.var_dir / "dry-run" / "email.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"to": to, "subject": subject, "message_id": mail.message_id,
                             "kind": "staff_invitation", "body": body, "url": url}) + "\n")
