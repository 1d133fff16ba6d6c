"""`/internal/identity/accounts…` (served by the gateway with its sign-in pages, never
forwarded): what the desk's staff page needs of the accounts the gateway owns: the list,
invite, disable, change role. Admins only.

The desk calls it with the internal token and the person the gateway forwarded; the gateway
then decides again from its own table (an account that is no longer an admin, or is disabled,
is refused whatever the headers say) and audits every change with who and when. Inviting is
the CLI's own code (`staff.invite`), so the link is made, audited and sent the same way.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

from gateway.identity import accounts, staff
from gateway.identity.config import IdentitySettings
from gateway.identity.models import StaffAccount
from gateway.models import AuditEntry
from services.common.audit import audit
from services.common.context import H_ACTOR_KIND, H_INTERNAL_TOKEN, H_PERSON_ID, Actor
from services.common.db import Database
from services.common.errors import NotFound, ProblemError, install_error_handlers, invalid
from services.common.settings import Settings

MOUNT = "/internal/identity"


class Identity(Protocol):
    """What this API needs of the gateway's identity (named here, so that this module does
    not import the one that mounts it)."""

    settings: Settings
    cfg: IdentitySettings

    @property
    def db(self) -> Database: ...

    async def now(self) -> datetime: ...

    @staticmethod
    def actor_of(account: StaffAccount) -> Actor: ...


class Invite(BaseModel):
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)
    name: str | None = Field(default=None, max_length=200)
    keyworker_id: str | None = Field(default=None, max_length=36)


class RoleChange(BaseModel):
    role: str = Field(max_length=20)
    keyworker_id: str | None = Field(default=None, max_length=36)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _read(row: accounts.AccountRow) -> dict[str, Any]:
    a = row.account
    return {"id": a.id, "name": a.name, "email": a.email, "role": a.role,
            "keyworker_id": a.keyworker_id, "status": row.status,
            "live_sessions": row.live_sessions, "last_sign_in": _iso(row.last_sign_in),
            "created_at": _iso(a.created_at), "disabled_at": _iso(a.disabled_at)}


def _refusal(exc: accounts.AccountError) -> ProblemError:
    """A rule about who may (yourself, the last admin) is a 409; bad input a 422."""
    if isinstance(exc, accounts.NotAllowed):
        return ProblemError(409, "not-allowed", "Not allowed", str(exc),
                            [{"loc": [exc.field], "msg": str(exc)}])
    if exc.field == "keyworker_id":  # the CLI's words name its option; the desk's a list
        return invalid([exc.field], "Choose the key worker this account is for")
    return invalid([exc.field], str(exc))


async def admin(request: Request) -> Actor:
    """The signed-in admin the desk asks for, checked against the gateway's own accounts."""
    identity: Identity = request.app.state.identity
    token = request.headers.get(H_INTERNAL_TOKEN, "")
    if not hmac.compare_digest(token.encode(), identity.settings.internal_secret.encode()):
        raise ProblemError(403, "forbidden", "Forbidden", "Internal callers only.")
    person_id = request.headers.get(H_PERSON_ID, "")
    if request.headers.get(H_ACTOR_KIND) != "person" or not person_id:
        raise ProblemError(403, "forbidden", "Forbidden", "Staff accounts are for admins.")
    async with identity.db.sessionmaker() as session:
        account = await session.get(StaffAccount, person_id[:36])
    if account is None or account.disabled_at is not None or account.role != "admin":
        raise ProblemError(403, "forbidden", "Forbidden", "Staff accounts are for admins.")
    return identity.actor_of(account)


AdminDep = Annotated[Actor, Depends(admin)]


def build_staff_api(identity: Identity) -> FastAPI:
    """The accounts API, mounted at `MOUNT` in the gateway's own sign-in app."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.identity = identity
    install_error_handlers(app)

    @app.get("/accounts")
    async def list_accounts(actor: AdminDep) -> dict[str, Any]:
        """Every account: name, email, role, linked key worker, status, last sign-in."""
        async with identity.db.sessionmaker() as session:
            rows = await accounts.list_accounts(session)
        return {"accounts": [_read(r) for r in rows], "you": actor.person_id}

    @app.post("/accounts", status_code=201)
    async def invite(body: Invite, actor: AdminDep) -> dict[str, Any]:
        """Invite someone (or again): the single-use link, shown once to the admin and sent
        to the invitee as `livewell staff invite` sends it."""
        now = await identity.now()
        try:
            async with identity.db.sessionmaker() as session, session.begin():
                sent = await staff.invite(
                    session, identity.settings, actor, email=body.email, role=body.role,
                    keyworker_id=body.keyworker_id or None,
                    name=(body.name or "").strip() or None, now=now,
                    valid_hours=identity.cfg.invitation_hours)
                account = sent.invitation.account
                result = {"id": account.id, "email": account.email, "role": account.role,
                          "url": sent.url, "expires_at": _iso(sent.invitation.expires_at)}
        except accounts.AccountError as exc:
            raise _refusal(exc) from None
        return result

    @app.post("/accounts/{account_id}/disable")
    async def disable(account_id: str, actor: AdminDep) -> dict[str, str]:
        """Disable an account: its sessions end at once. Not your own, not the last admin."""
        now = await identity.now()
        try:
            async with identity.db.sessionmaker() as session, session.begin():
                account = await accounts.disable_by(session, account_id[:36],
                                                    by=actor.person_id or "", now=now)
                if account is None:
                    raise NotFound("account")
                audit(session, AuditEntry, actor, "disable", "staff_account", account.id, now)
        except accounts.AccountError as exc:
            raise _refusal(exc) from None
        return {"id": account_id, "status": "disabled"}

    @app.post("/accounts/{account_id}/role")
    async def change_role(account_id: str, body: RoleChange,
                          actor: AdminDep) -> dict[str, Any]:
        """Give an account another role; it applies from their next page."""
        now = await identity.now()
        try:
            async with identity.db.sessionmaker() as session, session.begin():
                account = await accounts.change_role(
                    session, account_id[:36], role=body.role, keyworker_id=body.keyworker_id,
                    by=actor.person_id or "")
                if account is None:
                    raise NotFound("account")
                audit(session, AuditEntry, actor, f"role:{account.role}", "staff_account",
                      account.id, now)
                result = {"id": account.id, "role": account.role,
                          "keyworker_id": account.keyworker_id}
        except accounts.AccountError as exc:
            raise _refusal(exc) from None
        return result

    return app
