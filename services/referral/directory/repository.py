"""Every query of the directory. Only `flush()`: the request (or the CLI) commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.directory.models import (
    SERVICE_CHILDREN,
    Attribute,
    Language,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceChild,
    Signpost,
    Taxonomy,
    TaxonomyTerm,
)
from services.referral.directory.openreferral import ServiceParts, ServiceRows


async def save_service(session: AsyncSession, rows: ServiceRows) -> None:
    """Insert or replace one service with everything under it (locations, organisations and
    terms it names are updated in place, as other services may share them)."""
    sid = rows.service.id
    await delete_service(session, sid, keep_service=True)
    if rows.organization is not None:
        await session.merge(rows.organization)
    for location in rows.locations:
        await session.merge(location)
    for term in rows.terms:
        if await session.get(TaxonomyTerm, term.id) is None:
            session.add(term)
    await session.merge(rows.service)
    session.add_all(rows.at_locations)
    session.add_all(rows.children)
    await session.flush()


async def delete_service(session: AsyncSession, service_id: str,
                         keep_service: bool = False) -> None:
    for model in SERVICE_CHILDREN:
        await session.execute(delete(model).where(model.service_id == service_id))
    await session.execute(delete(ServiceAtLocation)
                          .where(ServiceAtLocation.service_id == service_id))
    if not keep_service:
        await session.execute(delete(Service).where(Service.id == service_id))


async def save_taxonomy(session: AsyncSession, taxonomy: Taxonomy,
                        terms: Sequence[TaxonomyTerm]) -> None:
    await session.merge(taxonomy)
    for term in terms:
        await session.merge(term)
    await session.flush()


async def service_parts(session: AsyncSession, service_id: str) -> ServiceParts | None:
    service = await session.get(Service, service_id)
    if service is None:
        return None
    org = (await session.get(Organization, service.organization_id)
           if service.organization_id else None)
    sals = (await session.execute(
        select(ServiceAtLocation, Location)
        .outerjoin(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id == service_id)
        .order_by(ServiceAtLocation.position))).all()
    children: list[ServiceChild] = []
    for model in SERVICE_CHILDREN:
        children.extend((await session.scalars(
            select(model).where(model.service_id == service_id))).all())
    term_ids = [c.taxonomy_term_id for c in children
                if isinstance(c, Attribute) and c.taxonomy_term_id]
    terms = {t.id: t for t in (await session.scalars(
        select(TaxonomyTerm).where(TaxonomyTerm.id.in_(term_ids)))).all()} if term_ids else {}
    return ServiceParts(service, org, list(sals), children, terms)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A service matching the query's database filters, with what the rest of search needs."""

    service: Service
    organization: Organization | None
    districts: tuple[str, ...]
    areas: tuple[str, ...]
    schedules: tuple[Schedule, ...]


async def candidates(session: AsyncSession, *, term_ids: Sequence[str] = (),
                     text: str | None = None, language: str | None = None,
                     active_only: bool = True) -> list[Candidate]:
    """Services with one of `term_ids`, `text` in name or description, in `language`."""
    stmt = select(Service, Organization).outerjoin(
        Organization, Organization.id == Service.organization_id)
    if active_only:
        stmt = stmt.where(Service.status == "active")
    if term_ids:
        stmt = stmt.where(Service.id.in_(select(Attribute.service_id)
                                         .where(Attribute.taxonomy_term_id.in_(term_ids))))
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(or_(func.lower(Service.name).like(like),
                              func.lower(func.coalesce(Service.description, "")).like(like)))
    if language:
        speaks = select(Language.service_id).where(func.lower(Language.code) == language)
        if language == "en":  # a service that lists no language works in English
            stmt = stmt.where(or_(Service.id.in_(speaks),
                                  Service.id.not_in(select(Language.service_id))))
        else:
            stmt = stmt.where(Service.id.in_(speaks))
    found = (await session.execute(stmt.order_by(Service.name, Service.id))).all()
    ids = [s.id for s, _ in found]
    districts: dict[str, list[str]] = {}
    areas: dict[str, list[str]] = {}
    schedules: dict[str, list[Schedule]] = {}
    if ids:
        for sid, district in (await session.execute(
                select(ServiceAtLocation.service_id, Location.district)
                .join(Location, Location.id == ServiceAtLocation.location_id)
                .where(ServiceAtLocation.service_id.in_(ids)))).all():
            if district:
                districts.setdefault(sid, []).append(district)
        for sid, name in (await session.execute(
                select(ServiceArea.service_id, ServiceArea.name)
                .where(ServiceArea.service_id.in_(ids)))).all():
            areas.setdefault(sid, []).append(name or "")
        for sched in (await session.scalars(
                select(Schedule).where(Schedule.service_id.in_(ids)))).all():
            schedules.setdefault(sched.service_id, []).append(sched)
    return [Candidate(s, o, tuple(districts.get(s.id, ())), tuple(areas.get(s.id, ())),
                      tuple(schedules.get(s.id, ()))) for s, o in found]


async def term_ids_for(session: AsyncSession, wanted: str) -> list[str]:
    """A term's id, or the ids of the terms whose `term` code is `wanted` (`debt`)."""
    stmt = select(TaxonomyTerm.id).where(or_(TaxonomyTerm.id == wanted,
                                             TaxonomyTerm.term == wanted))
    return list((await session.scalars(stmt)).all())


async def taxonomies(session: AsyncSession) -> list[Taxonomy]:
    return list((await session.scalars(select(Taxonomy).order_by(Taxonomy.name))).all())


async def taxonomy(session: AsyncSession, taxonomy_id: str) -> Taxonomy | None:
    return await session.get(Taxonomy, taxonomy_id)


async def term(session: AsyncSession, term_id: str) -> TaxonomyTerm | None:
    return await session.get(TaxonomyTerm, term_id)


async def terms(session: AsyncSession, taxonomy_id: str | None = None) -> list[TaxonomyTerm]:
    stmt = select(TaxonomyTerm).order_by(TaxonomyTerm.name, TaxonomyTerm.id)
    if taxonomy_id:
        stmt = stmt.where(TaxonomyTerm.taxonomy_id == taxonomy_id)
    return list((await session.scalars(stmt)).all())


async def service_ids(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Service.id).order_by(Service.name))).all())


async def signpost_by_key(session: AsyncSession, key: str) -> Signpost | None:
    return await session.scalar(select(Signpost).where(Signpost.idempotency_key == key))


async def signposts_of(session: AsyncSession, referral_id: str) -> list[Signpost]:
    return list((await session.scalars(select(Signpost).where(
        Signpost.referral_id == referral_id).order_by(Signpost.created_at))).all())


async def referrals_signposted_per_service(session: AsyncSession, start: datetime,
                                           end: datetime) -> dict[str, int]:
    """For each service name, how many referrals were signposted to it in [start, end)."""
    stmt = (select(Signpost.service_name, func.count(distinct(Signpost.referral_id)))
            .where(Signpost.created_at >= start, Signpost.created_at < end)
            .group_by(Signpost.service_name))
    return {str(name): int(n) for name, n in (await session.execute(stmt)).all()}
