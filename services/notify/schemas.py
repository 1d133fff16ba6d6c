"""Notify's wire models: internal requests from the other services, and the staff views."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from services.common.phone import E164Phone, PersonPhone

Urgency = Literal["emergency", "very_urgent", "urgent", "routine"]
Reference = Field(pattern=r"^[A-Z]{2}-[0-9A-Z]{4}-[0-9A-Z]{4}$", max_length=20)


class HandoffCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    handoff_key: str = Field(min_length=1, max_length=200,
                             description="`<referral_id>:<n>`: one handoff per key, ever.")
    referral_id: str = Field(min_length=1, max_length=36)
    reference: str = Reference
    urgency: Urgency
    respond_by: AwareDatetime
    keyworker_id: str = Field(min_length=1, max_length=36)
    phone: E164Phone
    email: EmailStr | None = None


class HandoffCreated(BaseModel):
    handoff_id: str


class ReplyIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", min_length=3, max_length=40)
    body: str = Field(max_length=1600)
    message_sid: str | None = None


class ReplyOut(BaseModel):
    handled: bool
    reply: str | None = None


AlertKind = Literal["sla_at_risk", "sla_breached", "nobody_fits", "send_failed",
                    "worker_stopped", "crisis", "no_answer", "dead_letter"]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    alert_key: str = Field(min_length=1, max_length=200)
    kind: AlertKind
    reference: str | None = Reference
    referral_id: str | None = None
    urgency: Urgency | None = None
    respond_by: AwareDatetime | None = None


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alert_key: str
    kind: str
    reference: str | None
    referral_id: str | None
    handoff_id: str | None
    urgency: str | None
    respond_by: datetime | None
    recipients: int
    created_at: datetime


class PersonMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_key: str = Field(min_length=1, max_length=200)
    template: Literal["caller_confirmation", "crisis_signposting"]
    to: PersonPhone  # a person's number: possible is enough (see services.common.phone)
    reference: str | None = Reference
    urgency: Urgency = "urgent"
    respond_by: AwareDatetime | None = None


class SignpostMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_key: str = Field(min_length=1, max_length=200)
    to: PersonPhone
    name: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=60)
    url: str | None = Field(default=None, max_length=500)
    opening: str | None = Field(default=None, max_length=500)


class MessageQueued(BaseModel):
    message_id: str


class MessageRead(BaseModel):
    """One SMS or call of a handoff: what kind, how far it got (never the text or number)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    channel: str
    status: str
    provider_sid: str | None
    attempts: int
    error_code: int | None
    created_at: datetime
    updated_at: datetime


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    step: str
    channel: str | None
    message_id: str | None
    detail: str | None


class HandoffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    handoff_key: str
    referral_id: str
    reference: str
    urgency: str
    respond_by: datetime
    keyworker_id: str
    offer: int
    status: str
    policy_version: str
    created_at: datetime
    closed_at: datetime | None


class HandoffDetail(HandoffRead):
    timeline: list[TimelineRead]
    messages: list[MessageRead]
