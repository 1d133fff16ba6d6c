"""What the outbox relay runs for this service: the reply of intake, timers and webhooks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.http import ServiceResponse
from services.common.kit import Kit
from services.common.kit_models import OutboxMixin
from services.referral import referrals, sla, webhooks
from services.referral.deps import Referral


def install(kit: Kit, own: Referral) -> None:
    """Register the reply handler, the SLA timers and the webhook sender on the relay."""

    async def person_resolved(session: AsyncSession, payload: dict[str, Any], body: Any) -> None:
        await referrals.person_resolved(session, own.announcer, kit.clock,
                                        payload["referral_id"], body)

    async def at_risk(session: AsyncSession, payload: dict[str, Any]) -> None:
        await sla.at_risk(session, kit.clock, payload["referral_id"])

    async def breach(session: AsyncSession, payload: dict[str, Any]) -> None:
        await sla.breach(session, kit.clock, payload["referral_id"])

    async def send_webhook(row: OutboxMixin) -> ServiceResponse:
        # `own.poster` read at each delivery: tests swap in a fake after start-up.
        return await webhooks.deliver(kit.db.sessionmaker, own.poster, kit.clock, row)

    kit.relay.reply_handlers[referrals.RESOLVE_HANDLER] = person_resolved
    kit.relay.local_handlers[sla.AT_RISK] = at_risk
    kit.relay.local_handlers[sla.BREACH] = breach
    kit.relay.senders[webhooks.TARGET] = send_webhook
