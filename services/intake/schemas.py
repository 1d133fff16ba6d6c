"""Intake's wire models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ResolveSubject(BaseModel):
    """What a referral says about its subject; all optional, invalid identifiers ignored."""

    model_config = ConfigDict(extra="ignore")

    given_name: str | None = Field(default=None, max_length=200)
    family_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    nhs_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    postcode: str | None = Field(default=None, max_length=10)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    referral_id: str = Field(min_length=1, max_length=36)
    reference: str = Field(min_length=1, max_length=20)
    subject: ResolveSubject


class ResolveResponse(BaseModel):
    person_id: str
    match: Literal["new", "exact", "possible"]


class IdentifierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    verified: bool = Field(description="False for a phone number that is possible but not in a "
                                       "range the numbering metadata lists: accepted, unverified.")


class PersonRead(BaseModel):
    """A person in the index with the ways we recognise them."""

    id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    merged_into: str | None
    identifiers: list[IdentifierRead]
    created_at: datetime


class PossibleMatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    person_id: str
    candidate_id: str
    reasons: list[str]
    status: str
    created_at: datetime


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merge_person_id: str = Field(description="The record folded into the one in the path.")


class ContactRead(BaseModel):
    """A contact as staff see it (message text and recordings are for staff only)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: str
    person_id: str | None
    from_address: str | None = Field(
        description="How to reach the person back: E.164 number or email address, normalised "
                    "when possible, else the sender as received (null: withheld).")
    from_raw: str | None = Field(description="The sender exactly as the carrier gave it.")
    from_verified: bool | None = Field(
        description="Phone numbers only: false when the number is possible but not in a range "
                    "the numbering metadata lists (call it; it may still be real).")
    reference: str | None
    ivr_choice: str | None
    outcome: str | None
    crisis: bool
    subject: str | None
    body: str | None
    recording_url: str | None
    created_at: datetime


class ReachBack(BaseModel):
    """How to return a callback: the contact's number or address."""

    model_config = ConfigDict(from_attributes=True)

    from_address: str | None = Field(description="E.164 or email address, normalised.")
    from_raw: str | None = Field(description="Exactly as received from the carrier.")
    from_verified: bool | None = Field(
        description="Phone only: false for a possible number the metadata does not list yet.")


class CallbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    person_id: str | None
    reach: ReachBack | None = Field(
        default=None, description="How to reach the person back (from the contact).")
    channel: str
    reason: str
    risk: str
    reference: str | None
    due_at: datetime
    status: str
    attempts: int
    created_at: datetime
    closed_at: datetime | None


class AttemptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "no_answer", "voicemail", "wrong_number", "closed"] = Field(
        description="`reached` and `closed` close the callback; the others keep it open.")


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    outcome: str
    actor_key_id: str | None


class CallbackDetail(CallbackRead):
    attempt_log: list[AttemptRead]


class EmailAccepted(BaseModel):
    """The provider's receipt: which contact holds the email (a repeat names the same one)."""

    contact_id: str
    reference: str | None
    duplicate: bool
