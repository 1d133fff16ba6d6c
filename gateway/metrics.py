"""`/metrics`: the gateway's own samples and every service's, each labelled `service`, for
operators only.

Who may read them: the scraper that sends `LIVEWELL_GATEWAY_METRICS_TOKEN` as a bearer token;
without a token configured, only a request from loopback (an operator on the host, or a
scraper beside the gateway). Metrics name paths, rates and failures, a map of the system an
attacker has no use for; and each scrape fans out to every service, so it is also a cheap way
to load them all. The fan-out is cached for a few seconds and shared by scrapes that arrive
together.
"""

from __future__ import annotations

import asyncio
import hmac
import time

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Scope

from gateway.ratelimit import is_loopback
from services.common.http import ServiceClient
from services.common.settings import SERVICES


def may_read(scope: Scope, address: str, token: str | None) -> bool:
    """True for an operator: the right bearer token, or loopback when no token is set."""
    if not token:
        return is_loopback(address)
    auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


class ServiceMetrics:
    """The services' metrics text, fetched at most once every `ttl` seconds."""

    def __init__(self, client: ServiceClient, ttl: float) -> None:
        self._client = client
        self._ttl = ttl
        self._texts: dict[str, str] = {}
        self._at = -float("inf")
        self._lock = asyncio.Lock()

    async def texts(self) -> dict[str, str]:
        async with self._lock:  # scrapes that arrive together share one fan-out
            if time.monotonic() - self._at >= self._ttl:
                results = await asyncio.gather(
                    *(self._client.get(s, "/metrics", timeout=2.0) for s in SERVICES),
                    return_exceptions=True)
                self._texts = {
                    service: result.body for service, result in zip(SERVICES, results, strict=True)
                    if not isinstance(result, BaseException) and result.ok
                    and isinstance(result.body, str)}
                self._at = time.monotonic()
            return self._texts


async def render(services: ServiceMetrics) -> str:
    """Prometheus text of the gateway (fresh) and the services (cached)."""
    texts = {"gateway": generate_latest().decode(), **await services.texts()}
    lines: list[str] = []
    for source, text in texts.items():
        lines.extend(_with_service(text, source))
    lines.append(f"livewell_gateway_metrics_sources {len(texts)}")
    return "\n".join(lines) + "\n"


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
