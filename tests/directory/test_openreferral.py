"""The directory speaks Open Referral UK: the standard's own examples round-trip, and every
open endpoint's answer is valid against the profile's schema."""

from __future__ import annotations

import uuid
from typing import Any

from services.referral.directory import schema
from services.referral.directory.bundle import split
from tests.directory.conftest import ANONYMOUS, example, person, seed_data
from tests.referral.conftest import Referral
from tests.support.service import key_headers

STAFF = key_headers("Living Well Hub", role="staff")


def contains(big: Any, small: Any, where: str = "") -> list[str]:
    """Where `small` is not found unchanged inside `big` (lists item by item)."""
    if isinstance(small, dict):
        if not isinstance(big, dict):
            return [where]
        return [p for k, v in small.items()
                for p in (contains(big[k], v, f"{where}.{k}") if k in big else [f"{where}.{k}"])]
    if isinstance(small, list):
        if not isinstance(big, list) or len(big) != len(small):
            return [where]
        return [p for n, (b, s) in enumerate(zip(big, small, strict=True))
                for p in contains(b, s, f"{where}[{n}]")]
    return [] if big == small else [where]


def test_the_standards_examples_are_valid_against_the_vendored_schema() -> None:
    assert schema.problems("service", example("service_full")) == []
    assert schema.problems("service_list", example("service_list"), paged=True) == []
    assert schema.problems("taxonomy", example("taxonomy")) == []
    assert schema.problems("taxonomy_term", example("taxonomy_term")) == []
    taxonomies, services = split(seed_data())
    assert all(schema.problems("taxonomy", t) == [] for t in taxonomies)
    assert all(schema.problems("service", s) == [] for s in services)


async def test_the_standards_service_example_round_trips(referral: Referral) -> None:
    original = example("service_full")
    resp = await referral.client.put(f"/api/v1/directory/services/{original['id']}",
                                     json=original, headers=STAFF)
    assert resp.status_code == 200, resp.text
    read = await referral.client.get(f"/openreferral/services/{original['id']}",
                                     headers=ANONYMOUS)
    assert read.status_code == 200
    assert contains(read.json(), original) == []
    assert schema.problems("service", read.json()) == []
    exported = (await referral.client.get("/api/v1/directory/export", headers=STAFF)).json()
    again = await referral.client.post("/api/v1/directory/import", json=exported, headers=STAFF)
    assert again.status_code == 200, again.text
    assert (await referral.client.get("/api/v1/directory/export",
                                      headers=STAFF)).json() == exported


async def test_the_standards_taxonomy_example_round_trips(referral: Referral) -> None:
    original = example("taxonomy")
    resp = await referral.client.post("/api/v1/directory/import", json=original, headers=STAFF)
    assert resp.json() == {"services": 0, "taxonomies": 1}
    read = (await referral.client.get(f"/openreferral/taxonomies/{original['id']}",
                                      headers=ANONYMOUS)).json()
    assert contains(read, original) == []
    assert schema.problems("taxonomy", read) == []
    term = original["taxonomy_terms"][0]
    one = (await referral.client.get(f"/openreferral/taxonomy_terms/{term['id']}",
                                     headers=ANONYMOUS)).json()
    assert contains(one, term) == [] and schema.problems("taxonomy_term", one) == []


async def test_every_open_endpoint_answers_valid_open_referral_uk(referral: Referral) -> None:
    await referral.client.post("/api/v1/directory/import", json=seed_data(), headers=STAFF)
    c = referral.client
    # The database is shared by the tests: count the seed's own services ("Example: …").
    seeded = {"per_page": 3, "text": "Example:"}
    listing = (await c.get("/openreferral/services", params=seeded, headers=ANONYMOUS)).json()
    assert schema.problems("service_list", listing, paged=True) == []
    assert (listing["total_items"], listing["total_pages"], listing["size"]) == (8, 3, 3)
    assert listing["first_page"] and not listing["last_page"] and not listing["empty"]
    last = (await c.get("/openreferral/services", params={**seeded, "page": 3},
                        headers=ANONYMOUS)).json()
    assert last["size"] == 2 and last["last_page"]
    for item in listing["contents"]:
        full = (await c.get(f"/openreferral/services/{item['id']}", headers=ANONYMOUS)).json()
        assert schema.problems("service", full) == []
    taxonomies = (await c.get("/openreferral/taxonomies", headers=ANONYMOUS)).json()
    assert schema.problems("taxonomy", taxonomies["contents"][0]) == []
    needs = seed_data()["taxonomies"][0]["id"]
    terms = (await c.get("/openreferral/taxonomy_terms", params={"taxonomy_id": needs},
                         headers=ANONYMOUS)).json()
    assert schema.problems("taxonomy_term", terms, paged=True) == []
    assert terms["total_items"] == 8
    empty = (await c.get("/openreferral/services", params={"text": "nothing like this"},
                         headers=ANONYMOUS)).json()
    assert empty["empty"] and empty["contents"] == [] and empty["total_pages"] == 1


async def test_an_invalid_document_is_refused_naming_the_field_and_changes_nothing(
        referral: Referral) -> None:
    services = [{**s, "id": str(uuid.uuid4())} for s in seed_data()["services"]]
    bad = {**services[1], "status": "open-ish"}
    resp = await referral.client.post("/api/v1/directory/import",
                                      json={"services": [services[0], bad]}, headers=STAFF)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"][0]["loc"] == ["services", 1, "status"]
    first = await referral.client.get(f"/openreferral/services/{services[0]['id']}",
                                      headers=ANONYMOUS)
    assert first.status_code == 404


async def test_only_coordinators_admins_and_staff_keys_edit(referral: Referral) -> None:
    doc = seed_data()["services"][0]
    path = f"/api/v1/directory/services/{doc['id']}"
    for headers in (key_headers("Lambeth Police"), person("key_worker")):
        assert (await referral.client.put(path, json=doc, headers=headers)).status_code == 403
    assert (await referral.client.put(path, json=doc, headers=ANONYMOUS)).status_code == 403
    resp = await referral.client.put(path, json=doc, headers=person("coordinator"))
    assert resp.status_code == 200
    assert (await referral.client.delete(path, headers=person("admin"))).status_code == 204
    assert (await referral.client.get(f"/openreferral/services/{doc['id']}",
                                      headers=ANONYMOUS)).status_code == 404


async def test_a_value_longer_than_its_column_is_refused_naming_the_field(
        referral: Referral) -> None:
    doc = {**seed_data()["services"][0], "id": str(uuid.uuid4())}
    doc["schedules"] = [{**doc["schedules"][0], "opens_at": "09:00:00 in the morning"}]
    resp = await referral.client.put(f"/api/v1/directory/services/{doc['id']}", json=doc,
                                     headers=STAFF)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "schedules", 0, "opens_at"]
