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


def check(kind: str, doc: Any, where: list[str | int]) -> None:
    """Refuse `doc` (422, naming the field) unless it is valid for the profile's `kind`."""
    found = schema.problems(kind, doc)
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
