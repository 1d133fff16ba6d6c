"""`/email/inbound`: one email to the single address, in SendGrid Inbound Parse form."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.types import Message

from services.common.deps import ClockDep, SessionDep
from services.common.errors import ProblemError
from services.intake import mail_in
from services.intake.deps import IntakeDep
from services.intake.schemas import EmailAccepted

router = APIRouter(prefix="/email", tags=["email"])


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "payload-too-large", "Payload too large",
                        f"Emails up to {limit} bytes are accepted.")


async def _read_form(request: Request, limit: int) -> dict[str, str]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(data), "more_body": False}

    try:
        form = await Request(request.scope, replay).form(
            max_files=50, max_fields=200, max_part_size=limit)
    except Exception as exc:  # malformed multipart is refused clearly, never a 500
        raise ProblemError(400, "bad-request", "Bad request",
                           "Expected multipart/form-data in SendGrid Inbound Parse form.") from exc
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile)}


@router.post("/inbound", response_model=EmailAccepted)
async def inbound_email(request: Request, session: SessionDep, intake: IntakeDep,
                        clock: ClockDep) -> EmailAccepted:
    """One email to the single address, posted by the mail provider (SendGrid Inbound Parse:
    `from`, `to`, `subject`, `text`, `html`, `headers`, `envelope`, attachments; or the raw
    message in `email`). The gateway has checked the shared secret. Each Message-ID is taken
    once; a reference in the subject or `In-Reply-To` joins the earlier thread; the sender gets
    an acknowledgement with the reference. Too large: 413; not an email: 400."""
    form = await _read_form(request, intake.config.email_max_bytes)
    try:
        mail = mail_in.from_sendgrid(form, intake.config.email_max_text_chars)
    except mail_in.UnreadableEmail as exc:
        raise ProblemError(400, "bad-request", "Bad request", str(exc)) from exc
    outcome = await mail_in.receive(session, intake, mail, clock.now())
    contact = outcome.contact
    return EmailAccepted(contact_id=contact.id, reference=contact.reference,
                         duplicate=outcome.duplicate)
