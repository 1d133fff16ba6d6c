"""Every outbox handler of intake, registered on the relay in one place.

Each handler's name is the constant of the module that enqueues the message naming it; the
function registered here only calls that module, so what happens lives beside what asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.kit import Kit
from services.intake import followup, mail_in, signposts
from services.intake.deps import Intake


def install(kit: Kit, own: Intake) -> None:
    """Register the self-referral reply handler and the senders of acknowledgements and
    signposting emails."""

    async def on_self_referral_created(session: AsyncSession, payload: dict[str, Any],
                                       body: Any) -> None:
        await followup.self_referral_created(session, payload, body, now=kit.clock.now())

    async def send_ack(_: AsyncSession, payload: dict[str, Any]) -> None:
        await mail_in.send_ack(own.email_sender, payload)

    async def send_signpost_email(_: AsyncSession, payload: dict[str, Any]) -> None:
        await signposts.send(own.email_sender, payload)

    kit.relay.reply_handlers[followup.SELF_REFERRAL_HANDLER] = on_self_referral_created
    kit.relay.local_handlers[mail_in.ACK_HANDLER] = send_ack
    kit.relay.local_handlers[signposts.SEND_HANDLER] = send_signpost_email
