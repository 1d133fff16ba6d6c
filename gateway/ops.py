"""The gateway's own routes: health, readiness of everything behind it, metrics, docs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.common.settings import SERVICES

if TYPE_CHECKING:
    from gateway.app import GatewayState

router = APIRouter(include_in_schema=False)


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The gateway process is alive."""
    return {"status": "ok", "service": "gateway"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the gateway's database and every service (with its database) are ready."""
    state = _state(request)

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


def _with_service(text: str, service: str) -> list[str]:
    lines: list[str] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            labels.setdefault("service", service)
            rendered = ",".join(f'{k}="{_esc(v)}"' for k, v in sorted(labels.items()))
            lines.append(f"{sample.name}{{{rendered}}} {_num(sample.value)}")
    return lines


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if value == value else "NaN"


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics of the gateway and of every service, each sample labelled `service`."""
    state = _state(request)
    texts: dict[str, str] = {"gateway": generate_latest().decode()}
    results = await asyncio.gather(
        *(state.client.get(s, "/metrics", timeout=2.0) for s in SERVICES), return_exceptions=True)
    for service, result in zip(SERVICES, results, strict=True):
        if not isinstance(result, BaseException) and result.ok and isinstance(result.body, str):
            texts[service] = result.body
    lines: list[str] = []
    for source, text in texts.items():
        lines.extend(_with_service(text, source))
    lines.append(f"livewell_gateway_metrics_sources {len(texts)}")
    return Response("\n".join(lines) + "\n", media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    """The public API of every service in one OpenAPI document."""
    return JSONResponse(await _state(request).openapi.document())


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Living Well Line API")
