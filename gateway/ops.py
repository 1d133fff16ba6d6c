"""The gateway's own routes: health, readiness of everything behind it, metrics, docs."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.metrics import may_read, render
from gateway.state import GatewayState, state_of
from services.common.errors import PROBLEM_BASE, PROBLEM_JSON
from services.common.settings import SERVICES

# The scope key under which the gateway leaves the request's source address for its pages.
SOURCE = "livewell.source"

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The gateway process is alive."""
    return {"status": "ok", "service": "gateway"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the gateway's database and every service (with its database) are ready."""
    state = state_of(request)

    async def service_check(name: str) -> tuple[str, Any]:
        try:
            resp = await state.client.get(name, "/readyz", timeout=2.0)  # type: ignore[arg-type]
        except Exception as exc:
            return name, {"status": "unreachable", "error": type(exc).__name__}
        return name, resp.body if isinstance(resp.body, dict) else {"status": resp.status}

    async def own_db() -> tuple[str, Any]:
        try:
            await asyncio.wait_for(state.db.ping(), timeout=2.0)
            return "gateway", {"status": "ready", "checks": {"database": "ok"}}
        except Exception as exc:
            return "gateway", {"status": "not ready", "error": type(exc).__name__}

    results = dict(await asyncio.gather(own_db(), *(service_check(s) for s in SERVICES)))
    ready = all(isinstance(v, dict) and v.get("status") == "ready" for v in results.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "services": results},
                        status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics of the gateway and of every service, each sample labelled
    `service`: for the scraper's token or an admin key, or from loopback when no token is set
    (gateway.metrics)."""
    state = state_of(request)
    address = request.scope.get(SOURCE, "unknown")
    if not (may_read(request.scope, address, state.config.metrics_token)
            or await _admin_key(request, state)):
        return JSONResponse(
            {"type": PROBLEM_BASE + "forbidden", "title": "Forbidden", "status": 403,
             "detail": "Metrics are for operators: send the scraper's token or an admin key."},
            status_code=403, media_type=PROBLEM_JSON)
    return Response(await render(state.metrics), media_type=CONTENT_TYPE_LATEST)


async def _admin_key(request: Request, state: GatewayState) -> bool:
    """True when the request carries an API key with the `admin` role."""
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    info = await state.keys.verify(key) if key.startswith("lw_") else None
    return info is not None and info.role == "admin"


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    """The public API of every service in one OpenAPI document."""
    return JSONResponse(await state_of(request).openapi.document())


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Living Well Line API")
