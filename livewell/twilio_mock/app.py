"""A Twilio-compatible REST server for tests and local development.

Messages and Calls (create, fetch, list) under `/2010-04-01/Accounts/{AccountSid}/…` with HTTP
basic auth, checked against Twilio's published description; Twilio-shaped JSON and errors;
message and call lifecycles with signed callbacks. `/_mock/…` lets a test read what was sent,
inject faults, press digits on a call and send an inbound SMS to the gateway.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from livewell.twilio_mock import admin
from livewell.twilio_mock.lifecycle import Webhooks
from livewell.twilio_mock.spec import TwilioError, check_create, check_path
from livewell.twilio_mock.state import MockState, new_sid

BASE = "/2010-04-01/Accounts/{AccountSid}"


def create_mock_app(
    *,
    account_sid: str,
    auth_token: str,
    gateway_url: str | None = None,
    public_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    step_delay: float = 0.02,
) -> FastAPI:
    """The mock as an ASGI app. Callbacks to URLs under `public_url` (default: `gateway_url`)
    are delivered to `gateway_url`; `transport` replaces the network (for in-process tests)."""
    state = MockState(account_sid=account_sid, auth_token=auth_token)
    hooks = Webhooks(state, gateway_url=gateway_url, public_url=public_url,
                     transport=transport, step_delay=step_delay)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await hooks.close()

    app = FastAPI(title="Twilio mock", lifespan=lifespan)
    app.state.mock = state
    app.state.hooks = hooks

    @app.exception_handler(TwilioError)
    async def _twilio_error(_: Request, exc: TwilioError) -> JSONResponse:
        headers = {"Retry-After": str(round(exc.retry_after))} if exc.retry_after else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    app.include_router(_rest_router(state, hooks))
    app.include_router(admin.router(state, hooks))
    return app


def _authenticate(request: Request, state: MockState, account_sid: str, resource: str,
                  method: str) -> None:
    header = request.headers.get("authorization", "")
    user = password = ""
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
    if not (hmac.compare_digest(user, state.account_sid)
            and hmac.compare_digest(password, state.auth_token)):
        raise TwilioError(401, 20003, "Authenticate")
    check_path(resource, method, dict(request.path_params))
    if account_sid != state.account_sid:
        raise _not_found(request)


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {k: [str(v) for v in form.getlist(k)] for k in form}


async def _apply_fault(state: MockState, resource: str, to: str, stage: str) -> None:
    fault = state.take_fault(resource, to, stage)
    if fault is None:
        return
    if fault.delay:
        await asyncio.sleep(fault.delay)
    raise TwilioError(fault.status, fault.code, fault.message, fault.retry_after)


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _not_found(request: Request) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")


def _parse_when(value: str) -> datetime:
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _page(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    size = min(int(request.query_params.get("PageSize", "50")), 1000)
    page = int(request.query_params.get("Page", "0"))
    chunk = items[page * size:(page + 1) * size]
    path = request.url.path
    more = len(items) > (page + 1) * size
    return {key: chunk, "page": page, "page_size": size, "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0), "uri": f"{path}?PageSize={size}",
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": f"{path}?PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}" if page else None}


def _rest_router(state: MockState, hooks: Webhooks) -> APIRouter:
    r = APIRouter()

    @r.post(BASE + "/Messages.json", status_code=201)
    async def create_message(AccountSid: str, request: Request) -> JSONResponse:  # noqa: N803
        _authenticate(request, state, AccountSid, "Messages.json", "post")
        form = await _form(request)
        check_create("Messages.json", form)
        state.requests += 1
        to = form["To"][0]
        await _apply_fault(state, "messages", to, "before")
        sid, now = new_sid("SM"), state.now()
        state.messages[sid] = {
            "to": to, "from": _one(form, "From"), "body": form.get("Body", [""])[0],
            "messaging_service_sid": _one(form, "MessagingServiceSid"),
            "status_callback": _one(form, "StatusCallback"), "status": "queued",
            "created": now, "updated": now, "sent": None, "error_code": None,
            "error_message": None,
        }
        lifecycle = state.take_fault("messages", to, "delivery")
        hooks.spawn(hooks.message_lifecycle(sid, lifecycle.delivery if lifecycle else None,
                                            lifecycle.error_code if lifecycle else None))
        await _apply_fault(state, "messages", to, "after")
        return JSONResponse(state.message_json(sid), status_code=201)

    @r.get(BASE + "/Messages.json")
    async def list_messages(AccountSid: str, request: Request) -> dict[str, Any]:  # noqa: N803
        _authenticate(request, state, AccountSid, "Messages.json", "get")
        q = request.query_params
        rows = sorted(state.messages.items(), key=lambda kv: kv[1]["created"], reverse=True)
        out = []
        for sid, m in rows:
            if q.get("To") and m["to"] != q["To"] or q.get("From") and m["from"] != q["From"]:
                continue
            sent = m["sent"]
            if q.get("DateSent>") and (sent is None or sent < _parse_when(q["DateSent>"])):
                continue
            if q.get("DateSent<") and (sent is None or sent > _parse_when(q["DateSent<"])):
                continue
            out.append(state.message_json(sid))
        return _page(request, "messages", out)

    @r.get(BASE + "/Messages/{Sid}.json")
    async def fetch_message(AccountSid: str, Sid: str, request: Request  # noqa: N803
                            ) -> dict[str, Any]:
        _authenticate(request, state, AccountSid, "Messages/{Sid}.json", "get")
        if Sid not in state.messages:
            raise _not_found(request)
        return state.message_json(Sid)

    @r.post(BASE + "/Calls.json", status_code=201)
    async def create_call(AccountSid: str, request: Request) -> JSONResponse:  # noqa: N803
        _authenticate(request, state, AccountSid, "Calls.json", "post")
        form = await _form(request)
        check_create("Calls.json", form)
        state.requests += 1
        to = form["To"][0]
        await _apply_fault(state, "calls", to, "before")
        sid, now = new_sid("CA"), state.now()
        state.calls[sid] = {
            "to": to, "from": form["From"][0], "url": _one(form, "Url"),
            "twiml": _one(form, "Twiml"),
            "status_callback": _one(form, "StatusCallback"),
            "events": form.get("StatusCallbackEvent", []), "status": "queued", "created": now,
            "updated": now, "started": None, "ended": None, "says": [], "documents": [],
            "gather": None, "digits": [],
        }
        lifecycle = state.take_fault("calls", to, "delivery")
        hooks.spawn(hooks.call_lifecycle(sid, answer=lifecycle is None or lifecycle.answer))
        await _apply_fault(state, "calls", to, "after")
        return JSONResponse(state.call_json(sid), status_code=201)

    @r.get(BASE + "/Calls.json")
    async def list_calls(AccountSid: str, request: Request) -> dict[str, Any]:  # noqa: N803
        _authenticate(request, state, AccountSid, "Calls.json", "get")
        q = request.query_params
        rows = sorted(state.calls.items(), key=lambda kv: kv[1]["created"], reverse=True)
        out = [state.call_json(sid) for sid, c in rows
               if not (q.get("To") and c["to"] != q["To"])
               and not (q.get("From") and c["from"] != q["From"])
               and not (q.get("Status") and c["status"] != q["Status"])]
        return _page(request, "calls", out)

    @r.get(BASE + "/Calls/{Sid}.json")
    async def fetch_call(AccountSid: str, Sid: str, request: Request  # noqa: N803
                         ) -> dict[str, Any]:
        _authenticate(request, state, AccountSid, "Calls/{Sid}.json", "get")
        if Sid not in state.calls:
            raise _not_found(request)
        return state.call_json(Sid)

    return r
