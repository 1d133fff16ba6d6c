"""Referral's wire models: the contract's referral request and answers, and internal bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    model_validator,
)

from services.common.phone import PersonPhone
from services.referral.nhs import normalise_nhs_number
from services.referral.routing import Need, Urgency

NhsNumber = Annotated[str, AfterValidator(normalise_nhs_number)]
Status = Literal["received", "routed", "assigned", "declined", "reassigned", "accepted",
                 "contacted", "closed"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Subject(_In):
    """The person referred. Give at least one way to reach them."""

    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    date_of_birth: date | None = None
    nhs_number: NhsNumber | None = Field(default=None, description="Ten digits, checked.")
    phone: PersonPhone | None = Field(
        default=None, description="Any UK format; stored as E.164. A possible number that the "
        "numbering metadata does not list yet is accepted; intake marks it unverified.")
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=500,
                                description="Postal address lines; needs `postcode` too.")
    postcode: str | None = Field(default=None, max_length=16)
    preferred_language: str | None = Field(
        default=None, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description="BCP 47 tag, e.g. `en`, `pl`, `pt-BR`.")

    @model_validator(mode="after")
    def _reachable(self) -> Subject:
        if not (self.phone or self.email or (self.address and self.postcode)):
            raise ValueError("give at least one way to reach the person: phone, email, "
                             "or address with postcode")
        return self


class Risk(_In):
    # Strict: `"yes"`, `"no"`, `1` or `null` are refused rather than guessed at; a flag read
    # the wrong way sets how fast a person at risk is contacted.
    immediate_danger: StrictBool = False
    self_harm: StrictBool = False
    harm_to_others: StrictBool = False
    safeguarding: StrictBool = False


class Consent(_In):
    subject_informed: bool


class Referrer(_In):
    name: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    phone: PersonPhone | None = None
    email: EmailStr | None = None


class ReferralCreate(_In):
    """A partner's referral (contract: `POST /api/v1/referrals`)."""

    subject: Subject
    reason: str = Field(min_length=1, max_length=10_000)
    needs: list[Need] = Field(default_factory=list)
    risk: Risk = Field(default_factory=Risk)
    urgency: Urgency | None = Field(
        default=None, description="Your view; the service may raise it, never lower it.")
    consent: Consent | None = None
    referrer: Referrer | None = None
    external_reference: str | None = Field(default=None, max_length=200)


class ReferralCreated(BaseModel):
    """The answer to a new referral: the reference and the time the person will be contacted by."""

    id: str
    reference: str
    status: Status
    urgency: Urgency
    respond_by: datetime
    locality: str
    team: str
    created_at: datetime


class TimelineEntry(BaseModel):
    event: str
    status: Status
    at: datetime


class ReferralRead(BaseModel):
    """What a referrer sees of its referral: status and times, never notes or the person."""

    id: str
    reference: str
    external_reference: str | None
    status: Status
    outcome: str | None = Field(description="Why a closed referral closed, e.g. `withdrawn`.")
    urgency: Urgency
    respond_by: datetime
    locality: str
    team: str
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    timeline: list[TimelineEntry]


class ReferralPage(BaseModel):
    items: list[ReferralRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class InformationCreate(_In):
    text: str = Field(min_length=1, max_length=10_000)


class WithdrawalCreate(_In):
    reason: str = Field(min_length=1, max_length=2_000)


class NoteAdded(BaseModel):
    id: str
    referral_id: str
    created_at: datetime


class SelfReferralCreate(_In):
    """Intake's self-referral (voice, SMS, email, the website); the person is already resolved."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reference: str = Field(pattern=r"^LW-[0-9A-Z]{4}-[0-9A-Z]{4}$")
    source: Literal["voice", "sms", "email", "web"]
    contact_id: str | None = Field(default=None, max_length=64)
    person_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=10_000)
    # Lenient on purpose: a flag or need this service does not know must not lose the referral.
    risk: dict[str, bool] = Field(default_factory=dict)
    urgency: Urgency | None = None
    postcode: str | None = Field(default=None, max_length=16)
    needs: list[str] = Field(default_factory=list)


class SelfReferralCreated(BaseModel):
    referral_id: str
    reference: str
    urgency: Urgency
    respond_by: datetime
    locality: str
    team: str


class ReferralEventIn(BaseModel):
    """A step reported by keyperson or notify."""

    model_config = ConfigDict(extra="ignore")

    event: Literal["assigned", "accepted", "declined", "reassigned", "contacted", "closed"]
    at: AwareDatetime
    keyworker_id: str | None = Field(default=None, max_length=64)


class EventApplied(BaseModel):
    referral_id: str
    status: Status
    applied: bool = Field(description="False when the event was older than the status.")


class DryRunRequest(_In):
    """What routing looks at; nothing is saved."""

    urgency: Urgency | None = None
    risk: Risk = Field(default_factory=Risk)
    needs: list[Need] = Field(default_factory=list)
    postcode: str | None = Field(default=None, max_length=16)


class RouteRead(BaseModel):
    """A routing decision and the reasons behind it."""

    urgency: Urgency
    respond_by: datetime
    locality: str
    team: str
    rules_version: str
    reasons: list[str]


class RulesStatus(BaseModel):
    version: str
    source: str
    last_error: str | None = Field(description="Why the last attempt to load the file failed.")


class ReloadAnswer(BaseModel):
    version: str
    changed: bool


class SlaItem(BaseModel):
    """An unaccepted referral near or past its deadline (staff only)."""

    id: str
    reference: str
    status: Status
    urgency: Urgency
    locality: str
    team: str
    respond_by: datetime
    sla_alerted_at: datetime | None
    breached_at: datetime | None


class WebhookCreate(_In):
    url: str = Field(max_length=2000, description="An https:// URL of yours.")


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: keep it to check `X-Livewell-Signature`.")


class StaffEventIn(_In):
    """A step the team records by hand: the person was contacted, or the referral closed."""

    event: Literal["contacted", "closed"]
    at: AwareDatetime | None = Field(default=None, description="When it happened; default now.")
    outcome: str | None = Field(default=None, max_length=40, pattern=r"^[a-z][a-z_]*$",
                                description="Why it closed, e.g. `supported`, `signposted`.")
