"""What the outbox relay runs for this service: the reply of intake, timers and webhooks."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.kit import Kit
from services.referral import referrals, repository, sla, timeline, webhooks

log = logging.getLogger(__name__)


def install(kit: Kit) -> None:
    """Register the reply handler, the SLA timers and the webhook sender on the relay."""

    async def person_resolved(session: AsyncSession, payload: dict[str, Any], body: Any) -> None:
        referral = await repository.get_referral_for_update(session, payload["referral_id"])
        if referral is None:
            return
        person_id = body.get("person_id") if isinstance(body, dict) else None
        if isinstance(person_id, str) and 0 < len(person_id) <= 64:
            referral.person_id = person_id
        else:  # still route: a key worker can be found without the person's record
            log.warning("intake answered without a usable person id",
                        extra={"event": "referral.person_unresolved", "referral_id": referral.id})
        if referral.status == "closed":
            return  # withdrawn while intake was answering: nobody to assign
        now = kit.clock.now()
        if await timeline.record(session, referral, "routed", now, now):
            referrals.request_assignment(session, referral, now)
        log.info("referral routed", extra={"event": "referral.routed", "referral_id": referral.id,
                                           "person_id": referral.person_id})

    kit.relay.reply_handlers[referrals.RESOLVE_HANDLER] = person_resolved
    kit.relay.local_handlers.update(sla.handlers(kit.clock))
    kit.relay.senders[webhooks.TARGET] = webhooks.make_sender(kit)
    kit.extras.setdefault(webhooks.POSTER, webhooks.AiohttpPoster(
        allow_loopback=kit.settings.webhook_allow_loopback))
