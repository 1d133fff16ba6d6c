"""Signposting from a person's page in the desk: send a network service's details to the
person (once per form, by its key), and list what was sent. Same role rules as the rest of
the desk: only whoever may act on the referral sends; another worker's is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.common.audit import audit
from services.common.deps import ClockDep, SessionDep
from services.referral import desk
from services.referral.api.desk import PersonDep
from services.referral.directory import repository, signposting
from services.referral.models import AuditEntry

router = APIRouter(prefix="/api/v1/desk", include_in_schema=False)


class SignpostIn(BaseModel):
    service_id: str = Field(min_length=1, max_length=36)
    channel: Literal["sms", "email"] = Field(
        default="sms", description="`email` needs an email address on the referral.")
    agreed: bool = Field(description="The person agreed to be sent the details.")
    key: str = Field(min_length=8, max_length=100,
                     description="One per form shown: a repeat sends nothing more.")


class SignpostRead(BaseModel):
    id: str
    service_id: str
    service_name: str
    channel: str
    created_at: datetime


@router.post("/referrals/{reference}/signposts", status_code=201, response_model=SignpostRead)
async def signpost(reference: str, body: SignpostIn, session: SessionDep, actor: PersonDep,
                   clock: ClockDep, response: Response) -> SignpostRead:
    """Send the person a service's public details (name, phone, web, opening times) by SMS or
    email."""
    r = await desk.acting(session, actor, reference)
    now = clock.now()
    sent, new = await signposting.send(session, r, service_id=body.service_id,
                                       channel=body.channel, agreed=body.agreed, key=body.key,
                                       actor=actor, now=now)
    if new:
        audit(session, AuditEntry, actor, "signpost", "referral", r.id, now)
    else:
        response.status_code = 200
    return SignpostRead.model_validate(sent, from_attributes=True)


@router.get("/referrals/{reference}/signposts", response_model=list[SignpostRead])
async def signposts(reference: str, session: SessionDep, actor: PersonDep) -> list[SignpostRead]:
    r = await desk.visible(session, actor, reference)
    return [SignpostRead.model_validate(s, from_attributes=True)
            for s in await repository.signposts_of(session, r.id)]
