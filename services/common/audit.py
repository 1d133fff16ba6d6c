"""Append-only audit entries: actor, action and entity ids, never content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Actor, request_id_var
from services.common.kit_models import AuditMixin


def audit(
    session: AsyncSession,
    model: type[AuditMixin],
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    now: datetime,
) -> None:
    """Add one audit entry to the caller's transaction."""
    row = model()
    row.at, row.request_id, row.action = now, request_id_var.get(), action
    row.actor_kind, row.actor_id, row.actor_org, row.actor_role = (
        actor.kind, actor.id, actor.org, actor.role or actor.person_role)
    row.entity_type, row.entity_id = entity_type, entity_id
    session.add(row)
