"""One OpenAPI document for the whole public surface, merged from the services' own."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from gateway.routes import match
from services.common.http import ServiceClient
from services.common.settings import SERVICES

DESCRIPTION = """\
The Living Well Line: a 24/7 single number and address for mental-health support, and the
API through which partners (police, housing, GPs) refer a person and follow the referral.

Authenticate with `Authorization: Bearer <key>`; keys belong to an organisation and carry a
role (`partner`, `staff`, `admin`). Errors are `application/problem+json` (RFC 9457).
Twilio webhooks (`/twilio/…`) must carry a valid `X-Twilio-Signature`."""


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                name = value.rsplit("/", 1)[-1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def merge_specs(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Public paths of every service (routed by the gateway) in one document."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Living Well Line API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {
            "bearerKey": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerKey": []}],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    for service, spec in specs.items():
        own = spec.get("components", {}).get("schemas", {})
        renames = {name: (name if name not in schemas or schemas[name] == body
                          else f"{service}_{name}") for name, body in own.items()}
        for name, body in own.items():
            schemas[renames[name]] = _rename_refs(copy.deepcopy(body), renames)
        for path, item in spec.get("paths", {}).items():
            route = match(path)
            if route is not None and route.service == service:
                merged["paths"][path] = _rename_refs(copy.deepcopy(item), renames)
    return merged


class OpenApiCache:
    """Fetches and merges the services' documents; refreshed at most once a minute."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client
        self._doc: dict[str, Any] | None = None
        self._at = 0.0

    async def document(self) -> dict[str, Any]:
        if self._doc is not None and time.monotonic() - self._at < 60:
            return self._doc
        results = await asyncio.gather(
            *(self._client.get(s, "/openapi.json", timeout=3) for s in SERVICES),
            return_exceptions=True)
        specs: dict[str, dict[str, Any]] = {
            s: r.body for s, r in zip(SERVICES, results, strict=True)
            if not isinstance(r, BaseException) and r.ok and isinstance(r.body, dict)}
        doc = merge_specs(specs)
        if len(specs) == len(SERVICES):
            self._doc, self._at = doc, time.monotonic()
        return doc
