"""The Open Referral UK profile's JSON Schemas (vendored, see schema/README.md), and checks
against them: imports are refused with the failing field named, and tests check every open
endpoint's answer."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed
    Draft202012Validator,
    FormatChecker,
    ValidationError,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent / "schema"
KINDS = ("service", "service_list", "taxonomy", "taxonomy_term")


@cache
def schema(kind: str) -> dict[str, Any]:
    """One of the profile's schemas: `service` (full), `service_list` (one row of a listing),
    `taxonomy` or `taxonomy_term`."""
    if kind not in KINDS:
        raise KeyError(kind)
    loaded: dict[str, Any] = json.loads((HERE / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


@cache
def page_schema(kind: str) -> dict[str, Any]:
    """A paged listing (the profile's `Page`: total_items … empty, and `contents`)."""
    openapi = json.loads((HERE / "openapi.json").read_text(encoding="utf-8"))
    page = openapi["components"]["schemas"]["Page"]
    return {"allOf": [page], "type": "object",
            "required": ["total_items", "total_pages", "page_number", "size", "first_page",
                         "last_page", "empty", "contents"],
            "properties": {"contents": {"type": "array", "items": schema(kind)}}}


@cache
def _registry() -> Registry:
    """The profile's files refer to each other by file name (`taxonomy_term.json`)."""
    return Registry().with_resources(
        (f"{kind}.json", Resource.from_contents(schema(kind), default_specification=DRAFT202012))
        for kind in KINDS)


@cache
def _validator(kind: str, paged: bool) -> Draft202012Validator:
    return Draft202012Validator(page_schema(kind) if paged else schema(kind),
                                registry=_registry(), format_checker=FormatChecker())


def _message(error: ValidationError) -> str:
    """What is wrong, without repeating the value given (problems never echo input)."""
    if error.validator == "required":
        return str(error.message)
    wanted = json.dumps(error.validator_value)
    return f"must match {error.validator} {wanted[:80]}"


def problems(kind: str, document: Any, *, paged: bool = False) -> list[tuple[list[str | int], str]]:
    """Where `document` breaks the profile's schema: (path, message) pairs, first few only."""
    out: list[tuple[list[str | int], str]] = []
    for error in _validator(kind, paged).iter_errors(document):
        out.append((list(error.absolute_path), _message(error)))
        if len(out) >= 10:
            break
    return out
