"""A person's story for people signed in to the desk: every contact on every channel.

A key worker sees it only for a person whose referral they accepted (referral, which knows,
is asked); coordinators and admins for anyone; keys for no one. Each read is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.context import Actor
from services.common.errors import NotFound
from services.common.http import ServiceClient
from services.intake import repository
from services.intake.models import AuditEntry

MAX_CONTACTS = 500
BODY_CHARS = 500


async def may_see(client: ServiceClient, actor: Actor, person_id: str) -> bool:
    """Whether this signed-in person may read the person's story (referral decides for a key
    worker: only someone whose referral they accepted)."""
    if actor.sees_everyone:
        return True
    query = urlencode({"person_id": person_id, "keyworker_id": actor.keyworker_id or ""})
    resp = await client.get("referral", f"/internal/desk/access?{query}", timeout=5.0)
    return bool(resp.ok and resp.body.get("allowed"))


async def contacts(session: AsyncSession, client: ServiceClient, actor: Actor, person_id: str,
                   now: datetime) -> Sequence[Row[tuple[object, ...]]]:
    """The person's contacts (and those of records merged into theirs), newest first, with
    the first `BODY_CHARS` of each body; a person this actor may not see is not found."""
    if not await may_see(client, actor, person_id):
        raise NotFound("person")
    if await repository.get_person(session, person_id) is None:
        raise NotFound("person")
    rows = await repository.story_contacts(session, person_id, body_chars=BODY_CHARS,
                                           limit=MAX_CONTACTS)
    audit(session, AuditEntry, actor, "read_story", "person", person_id, now)
    return rows
