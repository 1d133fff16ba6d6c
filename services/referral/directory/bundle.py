"""Importing and exporting the directory as Open Referral UK JSON.

An import may be one service or taxonomy document, a list of them, a paged listing
(`contents`), or the export's own shape `{"taxonomies": [...], "services": [...]}`. Every
document is checked against the profile's schema first; one bad document refuses the whole
import, naming where it is wrong, and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import ProblemError
from services.referral.directory import openreferral, repository, schema


@dataclass(frozen=True, slots=True)
class Imported:
    services: int
    taxonomies: int


def _kind(doc: Any) -> str:
    """`service` or `taxonomy`, from the fields only each has."""
    if isinstance(doc, dict) and ("taxonomy_terms" in doc or (
            "status" not in doc and "version" in doc)):
        return "taxonomy"
    return "service"


def split(data: Any) -> tuple[list[Any], list[Any]]:
    """(taxonomies, services) of an import in any of the accepted shapes."""
    if isinstance(data, dict) and ("services" in data or "taxonomies" in data):
        return list(data.get("taxonomies") or []), list(data.get("services") or [])
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    docs = data if isinstance(data, list) else [data]
    return ([d for d in docs if _kind(d) == "taxonomy"],
            [d for d in docs if _kind(d) == "service"])


# Sizes of the columns a document's fields land in (the profile sets none): a longer value is
# refused naming its field rather than cut or left for the database to refuse.
LIMITS: dict[str, dict[str, int]] = {
    "service": {"name": 300, "url": 500, "email": 300},
    "organization": {"name": 300},
    "location": {"name": 300},
    "contacts": {"name": 300},
    "phones": {"number": 60},
    "schedules": {"freq": 10, "byday": 40, "opens_at": 8, "closes_at": 8},
    "service_areas": {"name": 300},
    "languages": {"code": 10},
    "taxonomy_term": {"name": 300, "term": 300},
    "taxonomy_terms": {"name": 300, "term": 300},
    "taxonomy": {"name": 300},
}


def _too_long(doc: Any, kind: str, path: list[str | int]) -> list[tuple[list[str | int], str]]:
    out: list[tuple[list[str | int], str]] = []
    if not isinstance(doc, dict):
        return out
    for name, size in LIMITS.get(kind, {}).items():
        value = doc.get(name)
        if isinstance(value, str) and len(value) > size:
            out.append(([*path, name], f"must be at most {size} characters"))
    for key, value in doc.items():
        if key in LIMITS and isinstance(value, dict):
            out += _too_long(value, key, [*path, key])
        elif key in LIMITS and isinstance(value, list):
            for n, item in enumerate(value):
                out += _too_long(item, key, [*path, key, n])
        elif key == "service_at_locations" and isinstance(value, list):
            for n, item in enumerate(value):
                out += _too_long(item, "service_at_location", [*path, key, n])
    return out


def check(kind: str, doc: Any, where: list[str | int]) -> None:
    """Refuse `doc` (422, naming the field) unless it is valid for the profile's `kind`."""
    found = schema.problems(kind, doc) or _too_long(doc, kind, [])
    if found:
        raise ProblemError(
            422, "validation-error", "Not valid Open Referral UK",
            f"A {kind} does not match the Open Referral UK profile.",
            errors=[{"loc": [*where, *path], "msg": msg} for path, msg in found])


async def import_documents(session: AsyncSession, data: Any, now: datetime) -> Imported:
    taxonomies, services = split(data)
    for n, doc in enumerate(taxonomies):
        check("taxonomy", doc, ["taxonomies", n])
    for n, doc in enumerate(services):
        check("service", doc, ["services", n])
    for doc in taxonomies:
        await repository.save_taxonomy(session, *openreferral.taxonomy_rows(doc))
    for doc in services:
        await repository.save_service(session, openreferral.service_rows(doc, now))
    return Imported(services=len(services), taxonomies=len(taxonomies))


async def export_documents(session: AsyncSession) -> dict[str, Any]:
    """The whole directory: taxonomies with their terms, and every service in full."""
    taxonomies = []
    for t in await repository.taxonomies(session):
        taxonomies.append(openreferral.taxonomy_doc(t, await repository.terms(session, t.id)))
    services = []
    for sid in await repository.service_ids(session):
        parts = await repository.service_parts(session, sid)
        if parts is not None:
            services.append(openreferral.service_doc(parts))
    return {"taxonomies": taxonomies, "services": services}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
