"""Keyperson's wire models: roster, absences, duty rota and assignments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from services.common.phone import E164Phone
from services.keyperson.rota import MAX_SHIFT, DutyRole, to_utc

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,79}$")]
Skill = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_:\-]{0,79}$")]
LondonTime = Annotated[datetime, AfterValidator(to_utc), Field(
    description="ISO 8601 with an offset (`2027-03-28T01:30:00+01:00`, `…Z`); without one it "
                "is read as Europe/London wall time.")]
Urgency = Literal["emergency", "very_urgent", "urgent", "routine"]
AbsenceKind = Literal["leave", "sickness", "training", "other"]


# --- roster -------------------------------------------------------------------------------

class KeyWorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: E164Phone = Field(description="Mobile number; any UK format, stored as E.164.")
    email: EmailStr | None = None
    localities: list[Slug] = Field(default_factory=list,
                                   description="e.g. `north`, `south_west`, `south_east`, `hub`.")
    teams: list[Slug] = Field(default_factory=list)
    skills: list[Skill] = Field(default_factory=list,
                                description="e.g. `lang:pl`, `complex_needs`, `young_adults`.")
    max_caseload: int = Field(default=20, ge=0, le=500)


class KeyWorkerUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: E164Phone | None = None
    email: EmailStr | None = None
    localities: list[Slug] | None = None
    teams: list[Slug] | None = None
    skills: list[Skill] | None = None
    max_caseload: int | None = Field(default=None, ge=0, le=500)
    active: bool | None = None


class KeyWorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    phone: str
    email: str | None
    localities: list[str]
    teams: list[str]
    skills: list[str]
    max_caseload: int
    caseload: int = Field(description="Open assignments the worker holds now.")
    active: bool
    last_assigned_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class AbsenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AbsenceKind = "leave"
    starts_at: LondonTime
    ends_at: LondonTime

    @model_validator(mode="after")
    def _ordered(self) -> AbsenceCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AbsenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    keyworker_id: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    reassigned: int = Field(default=0, description="Open referrals moved to other workers now.")


# --- rota ---------------------------------------------------------------------------------

class ShiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyworker_id: str
    role: DutyRole
    locality: Slug | None = Field(default=None, description="None: the whole borough.")
    team: Slug | None = None
    starts_at: LondonTime
    ends_at: LondonTime

    @model_validator(mode="after")
    def _ordered(self) -> ShiftCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_SHIFT:
            raise ValueError("a shift lasts at most 24 hours")
        return self


class ShiftRead(BaseModel):
    id: str
    keyworker_id: str
    role: str
    locality: str | None
    team: str | None
    starts_at: datetime = Field(description="UTC.")
    ends_at: datetime = Field(description="UTC.")
    starts_local: datetime = Field(description="The same instant as London wall time.")
    ends_local: datetime
    hours: float = Field(description="Elapsed hours (a night over a clock change is 7 or 9).")


class OnDuty(BaseModel):
    keyworker_id: str
    name: str
    phone: str
    role: str
    locality: str | None
    team: str | None
    starts_at: datetime
    ends_at: datetime


class OnDutyNumbers(BaseModel):
    numbers: list[str] = Field(description="E.164 numbers in dial order.")
    superseded: bool = Field(default=False, description="The alert asked about is stale: "
                                                        "a key worker holds the referral now.")


class Gap(BaseModel):
    starts_at: datetime
    ends_at: datetime
    starts_local: datetime
    ends_local: datetime
    hours: float


class Coverage(BaseModel):
    role: str
    locality: str
    uncovered_hours: float
    gaps: list[Gap]


# --- assignment ---------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AssignmentRequest(BaseModel):
    """What referral sends (internal API step 3). Deliberately lenient: a refusal here would
    leave a referral without a key worker, so only what assignment cannot do without is
    required."""

    referral_id: str = Field(min_length=1, max_length=36)
    reference: str = Field(min_length=1, max_length=20)
    person_id: str | None = Field(default=None, max_length=36,
                                  description="None when the person is not known (withheld "
                                              "number): no continuity, no key-person link.")
    locality: str = Field(default="hub", max_length=80)
    team: str | None = Field(default=None, max_length=80)
    urgency: Urgency
    respond_by: Annotated[datetime, AfterValidator(_utc)]
    skills: list[Annotated[str, Field(max_length=80)]] = Field(default_factory=list)

    @field_validator("locality", mode="before")
    @classmethod
    def _hub_when_unknown(cls, value: object) -> object:
        return value or "hub"


class AssignmentResult(BaseModel):
    assignment_id: str
    keyworker_id: str | None
    status: str
    via: str
    reasons: list[str]


class AcceptedBody(BaseModel):
    keyworker_id: str
    handoff_id: str | None = None


class DeclinedBody(BaseModel):
    keyworker_id: str
    handoff_id: str | None = None
    reason: Literal["declined", "expired", "failed"] = "declined"


class ClosedBody(BaseModel):
    reference: str | None = None
    reason: str | None = None


class ExplainRequest(BaseModel):
    """A what-if: who would get a referral like this now, and why (nothing is changed)."""

    model_config = ConfigDict(extra="forbid")

    person_id: str | None = None
    locality: Slug
    team: Slug | None = None
    urgency: Urgency = "routine"
    respond_by: datetime | None = Field(default=None, description="Default: 72 hours from now.")
    skills: list[Skill] = Field(default_factory=list)


class Explanation(BaseModel):
    keyworker_id: str | None = Field(description="Who would be chosen, if anyone.")
    via: str = Field(description="`continuity`, `ranking`, `duty_coordinator` or `unassigned`.")
    reasons: list[str]
    candidates: list[dict[str, Any]] = Field(description="Ranked, best first (top 20).")
    excluded: dict[str, str] = Field(description="Workers considered but not eligible, and why.")


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    referral_id: str
    reference: str
    person_id: str | None
    keyworker_id: str | None
    status: str
    attempt: int
    via: str
    cover_for: str | None
    locality: str
    team: str | None
    urgency: str
    respond_by: datetime
    skills: list[str]
    declined: list[str]
    reasons: list[str]
    candidates: list[dict[str, Any]]
    created_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None


class KeyWorkerOfPerson(BaseModel):
    keyworker_id: str
    phone: str
    on_duty: bool


class KeyWorkerContact(BaseModel):
    id: str
    phone: str
    email: str | None
    active: bool
