"""The Living Well Network directory's tables, in the Open Referral UK (HSDS 3.0) shape.

Each entity keeps the fields the line searches or shows as columns, and everything else the
standard allows in `extra` (JSON), so a document imported from another council's directory is
exported again unchanged. Ids are the standard's UUIDs, kept as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.referral.base import Base


def _extra() -> Mapped[dict[str, Any]]:
    return mapped_column(default=dict)


class Taxonomy(Base):
    """A vocabulary terms come from (ours: the Living Well needs)."""

    __tablename__ = "directory_taxonomy"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = _extra()


class TaxonomyTerm(Base):
    """One term: `term` holds the need's code (`debt`, `housing` …) for our own taxonomy."""

    __tablename__ = "directory_taxonomy_term"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    taxonomy_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    term: Mapped[str | None] = mapped_column(sa.String(300), index=True)
    parent_id: Mapped[str | None] = mapped_column(sa.String(36))
    extra: Mapped[dict[str, Any]] = _extra()


class Organization(Base):
    __tablename__ = "directory_organization"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = _extra()


class Service(Base):
    """A network service; `example` marks the shipped seed set."""

    __tablename__ = "directory_service"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.String(500))
    email: Mapped[str | None] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(30))
    extra: Mapped[dict[str, Any]] = _extra()
    updated_at: Mapped[datetime]


class Location(Base):
    """A place; `postcode` and `district` are read from its first address, for search."""

    __tablename__ = "directory_location"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    location_type: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str | None] = mapped_column(sa.String(300))
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    district: Mapped[str | None] = mapped_column(sa.String(5), index=True)
    extra: Mapped[dict[str, Any]] = _extra()


class ServiceAtLocation(Base):
    __tablename__ = "directory_service_at_location"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    location_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    position: Mapped[int] = mapped_column(default=0)
    extra: Mapped[dict[str, Any]] = _extra()


class ServiceChild(Base):
    """Columns every list under a service has: its id, service and place in the list."""

    __abstract__ = True

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    position: Mapped[int] = mapped_column(default=0)
    extra: Mapped[dict[str, Any]] = _extra()


class Contact(ServiceChild):
    __tablename__ = "directory_contact"

    name: Mapped[str | None] = mapped_column(sa.String(300))


class Phone(ServiceChild):
    """A public phone number of a service, under one of its contacts (HSDS `contact.phones`)."""

    __tablename__ = "directory_phone"

    contact_id: Mapped[str | None] = mapped_column(sa.String(36))
    number: Mapped[str] = mapped_column(sa.String(60))


class Schedule(ServiceChild):
    """When a service is open: weekly `byday` (`MO,TU`) between `opens_at` and `closes_at`,
    London time."""

    __tablename__ = "directory_schedule"

    freq: Mapped[str | None] = mapped_column(sa.String(10))
    byday: Mapped[str | None] = mapped_column(sa.String(40))
    opens_at: Mapped[str | None] = mapped_column(sa.String(8))
    closes_at: Mapped[str | None] = mapped_column(sa.String(8))
    description: Mapped[str | None] = mapped_column(sa.Text)


class ServiceArea(ServiceChild):
    __tablename__ = "directory_service_area"

    name: Mapped[str | None] = mapped_column(sa.String(300))


class Language(ServiceChild):
    """A language the service works in: `code` is ISO 639-1 (`pl`), HSDS 3.0's field."""

    __tablename__ = "directory_language"

    code: Mapped[str | None] = mapped_column(sa.String(10), index=True)


class Attribute(ServiceChild):
    """A service's link to a taxonomy term (HSDS `attributes`): how it is found by need."""

    __tablename__ = "directory_attribute"

    taxonomy_term_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)


class Signpost(Base):
    """A service's public details sent to a person, with their agreement: once per
    `idempotency_key`. Names the service (its name as sent) for the monthly figures."""

    __tablename__ = "directory_signpost"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    referral_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    person_id: Mapped[str | None] = mapped_column(sa.String(64))
    service_id: Mapped[str] = mapped_column(sa.String(36))
    service_name: Mapped[str] = mapped_column(sa.String(300))
    channel: Mapped[str] = mapped_column(sa.String(10))
    agreed: Mapped[bool]
    sent_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)


SERVICE_CHILDREN: tuple[type[ServiceChild], ...] = (Contact, Phone, Schedule, ServiceArea,
                                                     Language, Attribute)
