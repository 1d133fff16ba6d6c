"""Open Referral UK documents ↔ the directory's rows, with no database in sight.

Known fields become columns; everything else the document carries is kept in `extra` and
given back on export, so another council's data round-trips. Nested lists keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.referral.directory.models import (
    Attribute,
    Contact,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceChild,
    Taxonomy,
    TaxonomyTerm,
)
from services.referral.localities import normalise_postcode

SERVICE_COLUMNS = ("organization_id", "name", "description", "url", "email", "status")
TERM_COLUMNS = ("taxonomy_id", "name", "description", "term", "parent_id")
NAMED = ("name", "description")
LOCATION_COLUMNS = ("location_type", "name")
# A service's nested lists kept as child rows: key in the document → model, its columns.
CHILD_LISTS: dict[str, tuple[type[ServiceChild], tuple[str, ...]]] = {
    "schedules": (Schedule, ("freq", "byday", "opens_at", "closes_at", "description")),
    "service_areas": (ServiceArea, ("name",)),
    "languages": (Language, ("code",)),
    "contacts": (Contact, ("name",)),
    "attributes": (Attribute, ("taxonomy_term_id",)),
}
NESTED = frozenset({"organization", "service_at_locations", *CHILD_LISTS})


def _split(doc: Mapping[str, Any], columns: Iterable[str],
           drop: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    cols = tuple(columns)
    skip = {"id", *cols, *drop}
    return ({c: doc.get(c) for c in cols}, {k: v for k, v in doc.items() if k not in skip})


def _join(row: Any, columns: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id}
    for c in columns:
        value = getattr(row, c)
        if value is not None:
            out[c] = value
    out.update(row.extra or {})
    return out


@dataclass
class ServiceRows:
    """Everything one service document becomes."""

    service: Service
    organization: Organization | None = None
    locations: list[Location] = field(default_factory=list)
    at_locations: list[ServiceAtLocation] = field(default_factory=list)
    children: list[ServiceChild] = field(default_factory=list)
    terms: list[TaxonomyTerm] = field(default_factory=list)


def term_row(doc: Mapping[str, Any], taxonomy_id: str | None = None) -> TaxonomyTerm:
    cols, extra = _split(doc, TERM_COLUMNS)
    if taxonomy_id and not cols["taxonomy_id"]:
        cols["taxonomy_id"] = taxonomy_id  # nested under its taxonomy: the link is implied
    return TaxonomyTerm(id=doc["id"], extra=extra, **cols)


def term_doc(term: TaxonomyTerm) -> dict[str, Any]:
    return _join(term, TERM_COLUMNS)


def taxonomy_rows(doc: Mapping[str, Any]) -> tuple[Taxonomy, list[TaxonomyTerm]]:
    cols, extra = _split(doc, NAMED, drop=("taxonomy_terms",))
    terms = [term_row(t, doc["id"]) for t in doc.get("taxonomy_terms") or []]
    return Taxonomy(id=doc["id"], extra=extra, **cols), terms


def taxonomy_doc(taxonomy: Taxonomy, terms: Sequence[TaxonomyTerm] | None = None
                 ) -> dict[str, Any]:
    out = _join(taxonomy, NAMED)
    if terms is not None:
        out["taxonomy_terms"] = [term_doc(t) for t in terms]
    return out


def postcode_of(location: Mapping[str, Any]) -> str | None:
    """The first address's postcode, normalised (None when it is not a UK postcode)."""
    for address in location.get("addresses") or []:
        found = normalise_postcode(str(address.get("postal_code") or ""))
        if found:
            return found
    return None


def _location_row(doc: Mapping[str, Any]) -> Location:
    cols, extra = _split(doc, LOCATION_COLUMNS)
    postcode = postcode_of(doc)
    return Location(id=doc["id"], extra=extra, postcode=postcode,
                    district=postcode.split(" ")[0] if postcode else None, **cols)


def service_rows(doc: Mapping[str, Any], now: datetime) -> ServiceRows:
    """The rows of one full service document (already checked against the schema)."""
    sid = doc["id"]
    cols, extra = _split(doc, SERVICE_COLUMNS, drop=NESTED)
    rows = ServiceRows(Service(id=sid, extra=extra, updated_at=now, **cols))
    org = doc.get("organization")
    if org:
        ocols, oextra = _split(org, NAMED)
        rows.organization = Organization(id=org["id"], extra=oextra, **ocols)
        rows.service.organization_id = rows.service.organization_id or org["id"]
    for n, sal in enumerate(doc.get("service_at_locations") or []):
        location = sal.get("location")
        scols, sextra = _split(sal, ("location_id",), drop=("location", "service_id"))
        if location:
            rows.locations.append(_location_row(location))
            scols["location_id"] = scols["location_id"] or location["id"]
        rows.at_locations.append(ServiceAtLocation(id=sal["id"], service_id=sid, position=n,
                                                   extra=sextra, **scols))
    for key, (model, columns) in CHILD_LISTS.items():
        for n, item in enumerate(doc.get(key) or []):
            drop = ["service_id"]
            if key == "contacts":
                drop.append("phones")
            if key == "attributes":
                drop.append("taxonomy_term")
            icols, iextra = _split(item, columns, drop=drop)
            if key == "attributes" and item.get("taxonomy_term"):
                rows.terms.append(term_row(item["taxonomy_term"]))
                icols["taxonomy_term_id"] = icols["taxonomy_term_id"] or item["taxonomy_term"]["id"]
            rows.children.append(model(id=item["id"], service_id=sid, position=n, extra=iextra,
                                       **icols))
            for m, phone in enumerate(item.get("phones") or [] if key == "contacts" else []):
                pcols, pextra = _split(phone, ("number",), drop=("contact_id",))
                rows.children.append(Phone(id=phone["id"], service_id=sid, position=m,
                                           contact_id=item["id"], extra=pextra, **pcols))
    return rows


@dataclass
class ServiceParts:
    """A service's rows as read back, for `service_doc`."""

    service: Service
    organization: Organization | None
    at_locations: list[tuple[ServiceAtLocation, Location | None]]
    children: list[ServiceChild]
    terms: dict[str, TaxonomyTerm]


def organization_doc(org: Organization) -> dict[str, Any]:
    return _join(org, NAMED)


def service_list_doc(service: Service, org: Organization | None) -> dict[str, Any]:
    """A row of `GET /services`: the service's own fields and its organisation."""
    out = _join(service, SERVICE_COLUMNS)
    out.setdefault("last_modified", service.updated_at.isoformat().replace("+00:00", "Z"))
    if org is not None:
        out["organization"] = organization_doc(org)
    return out


def service_doc(parts: ServiceParts) -> dict[str, Any]:
    """The full service document (what `GET /services/{id}` answers and `export` writes)."""
    out = service_list_doc(parts.service, parts.organization)
    out["service_at_locations"] = []
    for sal, location in parts.at_locations:
        item = _join(sal, ("location_id",))
        if location is not None:
            item["location"] = _join(location, LOCATION_COLUMNS)
        out["service_at_locations"].append(item)
    kids = sorted(parts.children, key=lambda c: c.position)
    phones = [c for c in kids if isinstance(c, Phone)]
    for key, (model, columns) in CHILD_LISTS.items():
        out[key] = []
        for child in (c for c in kids if type(c) is model):
            item = _join(child, columns)
            if isinstance(child, Contact):
                mine = [_join(p, ("number",)) for p in phones if p.contact_id == child.id]
                if mine:
                    item["phones"] = mine
            if isinstance(child, Attribute) and child.taxonomy_term_id in parts.terms:
                item["taxonomy_term"] = term_doc(parts.terms[child.taxonomy_term_id])
            out[key].append(item)
    return out
