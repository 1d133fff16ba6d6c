"""`/internal/web-contacts`: what the public website's contact form sends (never public itself:
the site calls it with the internal token)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.common.deps import ClockDep, SessionDep
from services.common.promises import promises, words_for
from services.intake import web
from services.intake.deps import IntakeDep

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


def _no_nul(value: str | None) -> str | None:
    return value.replace("\x00", "") if value is not None else None


def _required_text(value: str) -> str:
    cleaned = value.replace("\x00", "").strip()
    if not cleaned:
        raise ValueError("Write a message.")
    return cleaned


Text = Annotated[str | None, AfterValidator(_no_nul)]


class WebContactCreate(BaseModel):
    """One contact form submission, as the site read it."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(pattern=re.compile(r"^[A-Za-z0-9_-]{16,64}$").pattern,
                       description="the form's idempotency token: one contact per token")
    message: Annotated[str, AfterValidator(_required_text)] = Field(max_length=5000)
    name: Text = Field(default=None, max_length=200)
    phone: Text = Field(default=None, max_length=40)
    email: Text = Field(default=None, max_length=320)
    preferred_way: Literal["any", "phone", "text", "email"] = "any"
    preferred_time: Literal["any", "morning", "afternoon", "evening"] = "any"
    language: Literal["en", "pl", "pt", "es"] = "en"
    phq9: int | None = Field(default=None, ge=0, le=27)
    phq9_item9: int | None = Field(default=None, ge=0, le=3)
    gad7: int | None = Field(default=None, ge=0, le=21)
    suspected_spam: bool = False


class WebContactAccepted(BaseModel):
    """Where the message went: the reference and how soon we reply (a repeat: the same)."""

    contact_id: str
    reference: str | None
    crisis: bool
    urgency: str
    response_time: str
    response_window_seconds: int = Field(
        description="the window `response_time` says, so the site can say it in the person's "
                    "language: the routing rules' window for `urgency`, as every channel's")
    held: bool
    duplicate: bool


@router.post("/web-contacts", response_model=WebContactAccepted)
async def web_contact(body: WebContactCreate, session: SessionDep, intake: IntakeDep,
                      clock: ClockDep) -> WebContactAccepted:
    """A message from the website's contact form: a contact on channel `web`, matched,
    triaged and referred like a text or an email. Repeats of one token give one answer."""
    outcome = await web.receive(session, intake, web.WebMessage(**body.model_dump()),
                                clock.now())
    contact = outcome.contact
    window = promises().window(outcome.urgency)
    return WebContactAccepted(
        contact_id=contact.id, reference=contact.reference, crisis=contact.crisis,
        urgency=outcome.urgency, response_time=words_for(window),
        response_window_seconds=int(window.total_seconds()),
        held=outcome.held, duplicate=outcome.duplicate)
