"""Assignment steps other services deliver — referral asking for a key worker or reporting a
referral closed, notify reporting a handoff accepted, declined, expired or failed — applied
once per idempotency key: a repeat gets the answer stored with the first, in its inbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common import inbox
from services.common.clock import Clock
from services.keyperson.models import Assignment, InboxEntry
from services.keyperson.schemas import AssignmentResult


def result(a: Assignment) -> dict[str, Any]:
    """The answer to a delivered step, as sent and as stored for a repeat."""
    return AssignmentResult(assignment_id=a.id, keyworker_id=a.keyworker_id, status=a.status,
                            via=a.via, reasons=a.reasons).model_dump()


async def once(session: AsyncSession, key: str | None, scope: str, clock: Clock,
               apply: Callable[[], Awaitable[Assignment]]) -> dict[str, Any]:
    """Apply a delivery once per idempotency key (within `scope`, the step); a repeat gets
    the stored answer. Without a key the step is applied every time (it is idempotent per
    referral itself)."""
    inbox_key = f"{scope}:{key}" if key else None
    if inbox_key is not None:
        prior = await inbox.seen(session, InboxEntry, inbox_key)
        if prior is not None and prior.response is not None:
            return prior.response
    body = result(await apply())
    if inbox_key is not None:
        inbox.remember(session, InboxEntry, inbox_key, body, clock.now())
    return body
