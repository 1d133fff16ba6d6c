"""Partners' webhooks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import Webhook


async def orgs_with_webhooks(session: AsyncSession) -> frozenset[str]:
    """The organisations with at least one active webhook."""
    stmt = select(Webhook.org).where(Webhook.active.is_(True)).distinct()
    return frozenset(await session.scalars(stmt))


async def active_webhooks(session: AsyncSession, org: str) -> Sequence[Webhook]:
    stmt = select(Webhook).where(Webhook.org == org, Webhook.active.is_(True))
    return (await session.scalars(stmt.order_by(Webhook.created_at))).all()


async def get_webhook(session: AsyncSession, webhook_id: str) -> Webhook | None:
    return await session.get(Webhook, webhook_id)
