"""A network service's public details texted to a person (referral's signposting)."""

from __future__ import annotations

from fastapi import APIRouter

from services.common.deps import SessionDep
from services.notify import signposts
from services.notify.deps import NotifyDep
from services.notify.schemas import MessageQueued, SignpostMessageIn

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/signpost-messages", response_model=MessageQueued)
async def signpost_message(body: SignpostMessageIn, session: SessionDep,
                           own: NotifyDep) -> MessageQueued:
    """Text a person a network service's public details, once per `message_key`."""
    msg = await signposts.queue_signpost(
        session, message_key=body.message_key, to=body.to, name=body.name, phone=body.phone,
        url=body.url, opening=body.opening, now=own.kit.clock.now())
    return MessageQueued(message_id=msg.id)
