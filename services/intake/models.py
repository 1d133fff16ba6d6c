"""Intake's tables: people and their identifiers, contacts, referral links, callbacks."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, new_metadata
from services.common.kit import KitModels
from services.common.kit_models import AuditMixin, BigId, InboxMixin, OutboxMixin


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxEntry(InboxMixin, Base):
    pass


class AuditEntry(AuditMixin, Base):
    pass


KIT_MODELS = KitModels(outbox=OutboxMessage, inbox=InboxEntry, audit=AuditEntry)


class Person(Base):
    """Someone who contacted the line or was referred; merged people point at the survivor."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    given_name: Mapped[str | None] = mapped_column(sa.String(200))
    family_name: Mapped[str | None] = mapped_column(sa.String(200))
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    merged_into: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PersonIdentifier(Base):
    """One exact way to recognise a person: phone (E.164), email, NHS number, name + birth date."""

    __tablename__ = "person_identifier"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[str] = mapped_column(sa.String(320))
    # False for a phone number that is possible but not in the metadata's known ranges: kept
    # (never refused) and shown to whoever calls it as unverified.
    verified: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime]

    __table_args__ = (sa.UniqueConstraint("kind", "value"),)


class PossibleMatch(Base):
    """Two people who may be one: flagged for a person to confirm, never merged silently."""

    __tablename__ = "possible_match"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(sa.ForeignKey("person.id"), index=True)
    candidate_id: Mapped[str] = mapped_column(sa.ForeignKey("person.id"), index=True)
    reasons: Mapped[list[str]]
    status: Mapped[str] = mapped_column(sa.String(20))  # open, merged, dismissed
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (sa.UniqueConstraint("person_id", "candidate_id"),)


class Contact(Base):
    """One call, SMS or email, unique per channel and the carrier's id for it."""

    __tablename__ = "contact"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))  # voice, sms, email
    external_id: Mapped[str] = mapped_column(sa.String(400))  # CallSid, MessageSid, Message-ID
    person_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    # How to reach the person back: E.164 number or email address, normalised when possible
    # (else the sender as received), and the sender exactly as the carrier gave it.
    from_address: Mapped[str | None] = mapped_column(sa.String(320))
    from_raw: Mapped[str | None] = mapped_column(sa.String(320))
    from_verified: Mapped[bool | None]  # phone only: False when possible but not valid
    reference: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    ivr_choice: Mapped[str | None] = mapped_column(sa.String(20))
    outcome: Mapped[str | None] = mapped_column(sa.String(30))
    crisis: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str | None] = mapped_column(sa.String(1000))
    body: Mapped[str | None] = mapped_column(sa.Text)
    recording_url: Mapped[str | None] = mapped_column(sa.String(1000))
    reply: Mapped[str | None] = mapped_column(sa.Text)
    ack_message_id: Mapped[str | None] = mapped_column(sa.String(400), index=True)
    # A crisis call: when a person on the crisis route picked up (the monthly figures count
    # calls answered within 60 s of `created_at`, the call's start).
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id"),
        # The monthly figures read a month of contacts, and ask whether a sender with no
        # person was in touch before.
        sa.Index("ix_contact_created_at", "created_at"),
        sa.Index("ix_contact_from_address", "from_address"),
    )


class ReferralLink(Base):
    """A referral intake knows of for a person: its own self-referrals and resolved partner ones."""

    __tablename__ = "referral_link"

    reference: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    referral_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    person_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    source: Mapped[str] = mapped_column(sa.String(10))
    urgency: Mapped[str | None] = mapped_column(sa.String(20))
    respond_by: Mapped[datetime | None]
    opened_at: Mapped[datetime]


class Callback(Base):
    """A person the line owes a call back: missed and abandoned calls, messages left."""

    __tablename__ = "callback"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(sa.ForeignKey("contact.id"))
    person_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(30))
    risk: Mapped[str] = mapped_column(sa.String(10))
    risk_rank: Mapped[int]
    reference: Mapped[str | None] = mapped_column(sa.String(20))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(10))  # open, done
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (sa.UniqueConstraint("contact_id", "reason"),
                      sa.Index("ix_callback_queue", "status", "risk_rank", "due_at"))


class CallbackAttempt(Base):
    """One try at calling a person back, logged with who tried and what happened."""

    __tablename__ = "callback_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    callback_id: Mapped[str] = mapped_column(sa.ForeignKey("callback.id"), index=True)
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(sa.String(20))
    actor_key_id: Mapped[str | None] = mapped_column(sa.String(64))


class SmsPreference(Base):
    """STOP / START per number: a number that sent STOP gets no message until START."""

    __tablename__ = "sms_preference"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    opted_out: Mapped[bool]
    updated_at: Mapped[datetime]
