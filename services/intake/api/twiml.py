"""Reading Twilio's form posts and answering TwiML."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from services.common.errors import ProblemError

TWIML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {"example": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                              "<Response>…</Response>"}},
          "description": "TwiML for Twilio to act on."}}
MAX_FORM_FIELDS = 200
URLENCODED = "application/x-www-form-urlencoded"


async def twilio_form(request: Request, *required: str) -> dict[str, str]:
    """The posted parameters (unknown ones kept: Twilio adds fields without notice)."""
    try:
        if request.headers.get("content-type", "").startswith(URLENCODED):
            # What Twilio sends: parsed directly, a few times cheaper than the generic form
            # parser on the path every call takes.
            pairs = parse_qsl((await request.body()).decode("utf-8", "strict"),
                              keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
            values = dict(pairs)
        else:
            form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
            values = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
    except Exception as exc:  # a malformed body is the sender's problem, never a 500
        raise ProblemError(400, "bad-request", "Bad request",
                           "Expected an application/x-www-form-urlencoded Twilio request.") from exc
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise ProblemError(400, "bad-request", "Bad request",
                           f"Missing Twilio parameters: {', '.join(missing)}.",
                           [{"loc": ["form", m], "msg": "required"} for m in missing])
    return values


def twiml(doc: object) -> Response:
    """A TwiML document (VoiceResponse or MessagingResponse) as text/xml."""
    return Response(content=str(doc), media_type="text/xml")
