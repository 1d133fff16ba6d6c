"""Each service's own wall behind the gateway: who may call which paths, checked on the four
service apps directly with the headers the gateway adds for each kind of caller.

Requests are handed to the ASGI app as raw scopes, so a path reaches the service exactly as
written (an HTTP client would resolve `..` before sending). Every refusal here happens before a
handler or the database is involved, so the apps run without their lifespan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import Message

from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN, H_KEY_ID, H_ORG, H_ROLE
from services.common.middleware import ServiceMiddleware, allowed_kinds
from services.common.serve import serve_options
from services.common.settings import Settings
from services.intake.app import create_app as intake_app
from services.keyperson.app import create_app as keyperson_app
from services.notify.app import create_app as notify_app
from services.referral.app import create_app as referral_app

TOKEN = "boundary-internal-token"
GATEWAY_KINDS = ("key", "person", "twilio", "email")

# Real internal routes of each service: what a partner key reached through `..` before.
INTERNAL = {
    "intake": [("POST", "/internal/people/resolve")],
    "referral": [("POST", "/internal/referrals/r1/events"), ("POST", "/internal/referrals")],
    "keyperson": [("GET", "/internal/rota/on-duty"), ("GET", "/internal/keyworkers/k1"),
                  ("POST", "/internal/assignments")],
    "notify": [("POST", "/internal/person-messages"), ("POST", "/internal/alerts")],
}
FACTORIES: dict[str, Callable[[Settings], FastAPI]] = {
    "intake": intake_app, "referral": referral_app, "keyperson": keyperson_app,
    "notify": notify_app,
}


async def call(app: Any, method: str, path: str, headers: dict[str, str],
               body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request straight into the ASGI app, the path exactly as given."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8002),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent: list[Message] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out


def gateway_headers(kind: str) -> dict[str, str]:
    """What the gateway adds when it forwards a request of this kind of caller."""
    headers = {H_INTERNAL_TOKEN: TOKEN, H_ACTOR_KIND: kind, "content-type": "application/json"}
    if kind == "key":
        headers.update({H_KEY_ID: "k-attacker", H_ORG: "Attacker Org", H_ROLE: "admin"})
    return headers


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    var = tmp_path_factory.mktemp("boundary")
    settings = Settings(_env_file=None, internal_token=TOKEN, var_dir=var,
                        database_url=f"sqlite:///{Path(var) / 'unused.db'}")
    return {name: make(settings) for name, make in FACTORIES.items()}


@pytest.mark.parametrize("kind", GATEWAY_KINDS)
async def test_no_gateway_caller_reaches_an_internal_route(apps: dict[str, FastAPI],
                                                           kind: str) -> None:
    for service, routes in INTERNAL.items():
        for method, path in [*routes, ("POST", "/internal/clock/advance")]:
            status, headers, body = await call(apps[service], method, path,
                                               gateway_headers(kind), b'{"seconds": 0}')
            assert status == 404, (service, path, kind, status, body[:200])
            assert headers["content-type"] == "application/problem+json"
            assert json.loads(body)["status"] == 404


@pytest.mark.parametrize(("service", "path", "kind"), [
    ("intake", "/twilio/sms", "key"), ("intake", "/twilio/sms", "email"),
    ("intake", "/twilio/sms", "person"), ("intake", "/twilio/voice", "email"),
    ("intake", "/twilio/voice/menu", "key"), ("notify", "/twilio/status", "key"),
    ("notify", "/twilio/status/handoff-call/h1", "email"),
    ("intake", "/email/inbound", "twilio"), ("intake", "/email/inbound", "key"),
    ("referral", "/api/v1/referrals", "twilio"), ("referral", "/api/v1/webhooks", "email"),
    ("keyperson", "/api/v1/keyworkers", "twilio"), ("notify", "/api/v1/handoffs", "email"),
    ("intake", "/api/v1/people/p1", "twilio"),
])
async def test_each_route_admits_only_its_own_kind_of_caller(
    apps: dict[str, FastAPI], service: str, path: str, kind: str,
) -> None:
    status, headers, body = await call(apps[service], "POST", path, gateway_headers(kind))
    assert status == 403, (status, body[:200])
    assert headers["content-type"] == "application/problem+json"


async def test_a_sibling_service_without_a_kind_cannot_use_webhook_or_partner_routes(
    apps: dict[str, FastAPI],
) -> None:
    sibling = {H_INTERNAL_TOKEN: TOKEN}
    for service, path in (("intake", "/twilio/sms"), ("intake", "/email/inbound"),
                          ("referral", "/api/v1/referrals"), ("notify", "/twilio/status")):
        status, _, _ = await call(apps[service], "POST", path, sibling)
        assert status == 403, (service, path)
    status, headers, body = await call(apps["referral"], "GET", "/fhir/ServiceRequest/x", sibling)
    assert status == 403 and headers["content-type"] == "application/fhir+json"
    assert json.loads(body)["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize("path", [
    "/api/v1/referrals/../../../internal/referrals/r1/events",
    "/api/v1/referrals/./x", "/fhir/ServiceRequest/../../internal/referrals",
    "/api/v1/referrals/x\\..\\..\\internal", "/internal/../api/v1/referrals",
])
async def test_dot_segments_are_refused_by_every_service(apps: dict[str, FastAPI],
                                                         path: str) -> None:
    for service in FACTORIES:
        status, headers, _ = await call(apps[service], "POST", path, gateway_headers("key"))
        assert status == 400, (service, path, status)
        # referral answers every error on /fhir/* as an OperationOutcome
        assert headers["content-type"] in ("application/problem+json", "application/fhir+json")


def test_the_allow_list_matches_whole_segments() -> None:
    assert allowed_kinds("/internal/referrals") == {"service"}
    assert allowed_kinds("/internalx") == {"service"}  # unknown: siblings only
    assert allowed_kinds("/twilio/voice/menu") == {"twilio"}
    assert allowed_kinds("/email/inbound") == {"email"}
    assert allowed_kinds("/email/inboundx") == {"service"}
    assert allowed_kinds("/api/v1/referrals") == {"key", "person"}
    assert allowed_kinds("/fhir/ServiceRequest") == {"key"}
    assert allowed_kinds("/openapi.json") == {"service"}
    assert allowed_kinds("/desk/r/LW-1", "desk") == {"person"}
    assert allowed_kinds("/api/v1/referrals", "desk") == {"service"}
    assert allowed_kinds("/contact", "site") == {"anonymous", "service"}
    assert allowed_kinds("/internal/web-contacts", "site") == {"service"}


@pytest.mark.parametrize(("service", "path", "kind", "status"), [
    ("site", "/contact", "anonymous", 204), ("site", "/", "anonymous", 204),
    ("site", "/internal/web-contacts", "anonymous", 404), ("site", "/contact", "key", 403),
    ("desk", "/desk/", "person", 204), ("desk", "/desk/", "anonymous", 403),
    ("desk", "/desk/", "key", 403), ("desk", "/internal/x", "person", 404),
    ("intake", "/contact", "anonymous", 404), ("intake", "/api/v1/people/p", "anonymous", 403),
])
async def test_the_web_faces_have_allow_lists_of_their_own(service: str, path: str, kind: str,
                                                           status: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wall = ServiceMiddleware(app, service=service, token=TOKEN)
    answered, _, _ = await call(wall, "GET", path, {H_INTERNAL_TOKEN: TOKEN, H_ACTOR_KIND: kind})
    assert answered == status


async def test_allowed_callers_pass_and_open_paths_need_nothing() -> None:
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wall = ServiceMiddleware(app, service="referral", token=TOKEN)
    for path, headers in (("/internal/referrals", {H_INTERNAL_TOKEN: TOKEN}),
                          ("/internal/referrals", {H_INTERNAL_TOKEN: TOKEN,
                                                   H_ACTOR_KIND: "service"}),
                          ("/twilio/sms", gateway_headers("twilio")),
                          ("/email/inbound", gateway_headers("email")),
                          ("/api/v1/referrals", gateway_headers("key")),
                          ("/api/v1/referrals", gateway_headers("person")),
                          ("/fhir/ServiceRequest", gateway_headers("key")),
                          ("/openapi.json", {H_INTERNAL_TOKEN: TOKEN}),
                          ("/healthz", {})):
        status, _, _ = await call(wall, "POST", path, headers)
        assert status == 204, (path, headers)
    assert len(reached) == 9


@pytest.mark.parametrize(("service", "path"), [
    ("referral", "/api/v1/referrals/"), ("keyperson", "/api/v1/keyworkers/"),
    ("intake", "/api/v1/contacts/"), ("notify", "/api/v1/handoffs/"),
])
async def test_a_trailing_slash_is_a_404_problem_not_a_redirect_to_the_service(
    apps: dict[str, FastAPI], service: str, path: str,
) -> None:
    status, headers, body = await call(apps[service], "GET", path,
                                       {**gateway_headers("key"), "x-forwarded-proto": "https",
                                        "host": "127.0.0.1:8002"})
    assert status == 404, (status, headers)
    assert "location" not in headers
    assert headers["content-type"] == "application/problem+json"
    assert b"127.0.0.1" not in body


def test_services_do_not_take_the_scheme_or_address_from_forwarded_headers() -> None:
    config = uvicorn.Config(FastAPI(), **serve_options("127.0.0.1", 8002))
    assert config.proxy_headers is False
