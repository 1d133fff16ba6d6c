"""What notify's outbox relay and message dispatcher run: escalation timers, the rota's
answer to an alert, the rota lookup itself, the dead-letter alert, and what a sent or refused
message means for its handoff. Each is a thin call into the domain module that names it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.http import ServiceResponse
from services.common.kit import Kit
from services.common.kit_models import OutboxMixin
from services.notify import alerts, delivery, handoffs
from services.notify.deps import Notify
from services.notify.models import Message


def install(kit: Kit, own: Notify) -> None:
    """Register every handler of notify on the relay (`kit.relay`) and the dispatcher."""

    async def escalate(session: AsyncSession, payload: dict[str, Any]) -> None:
        await handoffs.escalate(session, own, payload)

    async def recipients(session: AsyncSession, payload: dict[str, Any], body: Any) -> None:
        await alerts.queue_to_recipients(session, own, payload, body)

    async def rota(row: OutboxMixin) -> ServiceResponse:
        return await alerts.ask_who_is_on_duty(kit.client, row)

    async def dead_letter(session: AsyncSession, row: OutboxMixin, error: str) -> None:
        await alerts.dead_letter(session, own, row)

    async def sent(session: AsyncSession, msg: Message, reconciled: bool) -> None:
        await delivery.sent(session, own, msg, reconciled)

    async def refused(session: AsyncSession, msg: Message, code: int) -> None:
        await delivery.refused(session, own, msg, code)

    kit.relay.local_handlers[handoffs.ESCALATE_HANDLER] = escalate
    kit.relay.reply_handlers[alerts.RECIPIENTS_HANDLER] = recipients
    kit.relay.senders[alerts.ROTA_TARGET] = rota
    # Notify's own dead letters are alerted here, in the same transaction (the other
    # services' relays post the alert to notify's /internal/alerts).
    kit.relay.on_dead = dead_letter
    own.dispatcher.on_sent = sent
    own.dispatcher.on_refused = refused
