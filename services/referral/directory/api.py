"""The directory over HTTP: open Open Referral UK endpoints (read-only, no key) and the
coordinators' edits and bulk import/export."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response

from services.common.context import Actor
from services.common.deps import ActorDep, ClockDep, SessionDep
from services.common.errors import NotFound, ProblemError, invalid
from services.referral.deps import ReferralDep
from services.referral.directory import bundle, openreferral, repository, search
from services.referral.localities import LOCALITIES

router = APIRouter(prefix="/openreferral", tags=["Network directory (Open Referral UK)"])
edit_router = APIRouter(prefix="/api/v1/directory", tags=["Network directory: editing"])

PROFILE = "https://github.com/OpenReferralUK/uk-profile"
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( ?[0-9][A-Z]{2})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
PerPage = Annotated[int, Query(ge=1, le=search.MAX_PER_PAGE, description="Items per page.")]


def _paged(items: list[Any], page: int, per_page: int) -> dict[str, Any]:
    info, window = search.page_of(len(items), page, per_page)
    return {
        "total_items": info.total_items, "total_pages": info.total_pages,
        "page_number": info.page_number, "size": info.size, "first_page": info.first_page,
        "last_page": info.last_page, "empty": info.empty, "contents": items[window]}


@router.get("")
async def about() -> dict[str, Any]:
    """Which standard this directory speaks (the profile's `/` endpoint)."""
    return {"version": "3.0", "profile": PROFILE, "openapi_url": "/docs"}


@router.get("/services")
async def services(
    session: SessionDep, clock: ClockDep, own: ReferralDep, page: Page = 1,
    per_page: PerPage = 50,
    taxonomy_term_id: Annotated[str | None, Query(
        max_length=300, description="A term's id, or a need's code such as `debt`.")] = None,
    postcode: Annotated[str | None, Query(
        max_length=10, description="A postcode or district: nearest services first.")] = None,
    locality: Annotated[str | None, Query(description="north, south_west or south_east.")] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    search_: Annotated[str | None, Query(alias="search", max_length=200)] = None,
    language: Annotated[str | None, Query(description="ISO 639-1 code, e.g. `pl`.")] = None,
    open_now: Annotated[bool, Query(description="Only services open at this moment.")] = False,
) -> dict[str, Any]:
    """Network services (active ones), paged as the profile's `Page`. Filters combine."""
    if postcode is not None and not _DISTRICT.match(postcode.strip().upper()):
        raise invalid(["query", "postcode"], "give a UK postcode or postcode district")
    if locality is not None and locality not in LOCALITIES:
        raise invalid(["query", "locality"], f"locality must be one of {', '.join(LOCALITIES)}")
    lang = language.strip().lower() if language else None
    if lang is not None and not _LANGUAGE.match(lang):
        raise invalid(["query", "language"], "give a language code such as pl or pt")
    term_ids: list[str] = []
    if taxonomy_term_id:
        term_ids = await repository.term_ids_for(session, taxonomy_term_id)
        if not term_ids:
            return _paged([], page, per_page)
    found = await repository.candidates(session, term_ids=term_ids, text=text or search_,
                                        language=lang)
    districts = own.rules.ruleset.districts
    place = search.where(postcode, locality, districts)
    kept = search.narrow(found, place, districts, clock.now() if open_now else None)
    return _paged([openreferral.service_list_doc(c.service, c.organization) for c in kept],
                  page, per_page)


@router.get("/services/{service_id}")
async def service(service_id: str, session: SessionDep) -> dict[str, Any]:
    """One service in full: organisation, locations, contacts and phones, opening times,
    service areas, languages and its need terms."""
    parts = await repository.service_parts(session, service_id)
    if parts is None:
        raise NotFound("service")
    return openreferral.service_doc(parts)


@router.get("/taxonomies")
async def taxonomies(session: SessionDep, page: Page = 1,
                     per_page: PerPage = 50) -> dict[str, Any]:
    """The vocabularies the directory's terms come from."""
    items = [openreferral.taxonomy_doc(t) for t in await repository.taxonomies(session)]
    return _paged(items, page, per_page)


@router.get("/taxonomies/{taxonomy_id}")
async def taxonomy(taxonomy_id: str, session: SessionDep) -> dict[str, Any]:
    """One vocabulary with all its terms."""
    found = await repository.taxonomy(session, taxonomy_id)
    if found is None:
        raise NotFound("taxonomy")
    return openreferral.taxonomy_doc(found, await repository.terms(session, found.id))


@router.get("/taxonomy_terms")
async def taxonomy_terms(session: SessionDep, page: Page = 1, per_page: PerPage = 50,
                         taxonomy_id: Annotated[str | None, Query(max_length=36)] = None
                         ) -> dict[str, Any]:
    """Terms (the Living Well needs among them), optionally of one taxonomy."""
    items = [openreferral.term_doc(t) for t in await repository.terms(session, taxonomy_id)]
    return _paged(items, page, per_page)


@router.get("/taxonomy_terms/{term_id}")
async def taxonomy_term(term_id: str, session: SessionDep) -> dict[str, Any]:
    found = await repository.term(session, term_id)
    if found is None:
        raise NotFound("taxonomy term")
    return openreferral.term_doc(found)


async def editor(actor: ActorDep) -> Actor:
    """A staff or admin key, or a coordinator or admin signed in to the desk."""
    if not actor.sees_everyone:
        raise ProblemError(403, "forbidden", "Forbidden",
                           "Editing the directory needs a coordinator or admin.")
    return actor


EditorDep = Annotated[Actor, Depends(editor)]


@edit_router.put("/services/{service_id}")
async def put_service(service_id: str, doc: Annotated[dict[str, Any], Body()],
                      session: SessionDep, clock: ClockDep, _: EditorDep) -> dict[str, Any]:
    """Add or replace one service, as an Open Referral UK service document."""
    if doc.get("id") != service_id:
        raise invalid(["body", "id"], "id must be the service id in the path")
    bundle.check("service", doc, ["body"])
    await repository.save_service(session, openreferral.service_rows(doc, clock.now()))
    parts = await repository.service_parts(session, service_id)
    assert parts is not None
    return openreferral.service_doc(parts)


@edit_router.delete("/services/{service_id}", status_code=204)
async def delete_service(service_id: str, session: SessionDep, _: EditorDep) -> Response:
    await repository.delete_service(session, service_id)
    return Response(status_code=204)


@edit_router.post("/import")
async def import_directory(data: Annotated[Any, Body()], session: SessionDep, clock: ClockDep,
                           _: EditorDep) -> dict[str, int]:
    """Open Referral UK JSON (see `bundle`): all of it, or nothing when one part is invalid."""
    done = await bundle.import_documents(session, data, clock.now())
    return {"services": done.services, "taxonomies": done.taxonomies}


@edit_router.get("/export")
async def export_directory(session: SessionDep, _: EditorDep) -> dict[str, Any]:
    """Everything, as `{"taxonomies": [...], "services": [...]}` (importable elsewhere)."""
    return await bundle.export_documents(session)
