"""`/internal/signpost-emails`: a network service's public details emailed to a person, asked
by referral's signposting through its outbox (never routed by the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.common.deps import ClockDep, SessionDep
from services.intake import signposts
from services.intake.deps import IntakeDep

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)
DeliveryKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class SignpostEmailIn(BaseModel):
    """The same fields as the text notify sends: only the service's public details."""

    model_config = ConfigDict(extra="ignore")

    message_key: str = Field(min_length=1, max_length=100)
    to: EmailStr
    name: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=60)
    url: str | None = Field(default=None, max_length=500)
    opening: str | None = Field(default=None, max_length=500)


class SignpostEmailQueued(BaseModel):
    message_key: str
    queued: bool


@router.post("/signpost-emails", response_model=SignpostEmailQueued)
async def signpost_email(body: SignpostEmailIn, session: SessionDep, clock: ClockDep,
                         intake: IntakeDep, key: DeliveryKey = None) -> SignpostEmailQueued:
    """Email a person a network service's public details, once per delivery and per
    `message_key`."""
    settings = intake.kit.settings
    answer = await signposts.take(
        session, delivery_key=key, message_key=body.message_key, to=str(body.to),
        details=signposts.ServiceDetails(name=body.name, phone=body.phone, url=body.url,
                                         opening=body.opening),
        line_phone=signposts.line_number(settings.twilio_phone_number),
        sender=settings.email_address, now=clock.now())
    return SignpostEmailQueued.model_validate(answer)
