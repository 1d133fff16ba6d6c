"""What the gateway asks of identity: is this path a sign-in page, who holds this cookie, is
this form's CSRF token right; and the sign-in, enrolment and sign-out the pages need."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from limits.aio.storage import Storage
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.types import Send

from gateway.identity import accounts
from gateway.identity.attempts import SignInLimits
from gateway.identity.config import IdentitySettings
from gateway.identity.models import StaffAccount, StaffInvitation
from gateway.identity.roster import Roster
from gateway.identity.sessions import COOKIE, Csrf, Person, SessionStore
from gateway.models import AuditEntry
from gateway.proxy import Principal
from services.common.audit import audit
from services.common.clock import Clock
from services.common.context import Actor
from services.common.db import Database
from services.common.http import ServiceClient
from services.common.settings import Settings
from services.common.web import Pages
from services.common.web.security import content_security_policy

log = logging.getLogger("gateway.identity")
PAGES = frozenset({"/desk/sign-in", "/desk/sign-out"})
PAGE_PREFIXES = ("/desk/invite/", "/desk/sign-in/", "/desk/static/nhsuk/", "/desk/static/kit/",
                 "/desk/static/identity/",
                 # The accounts API of the desk's staff page (internal token and an admin).
                 "/internal/identity/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A page's own background update (the board's polling) says so in this header: it is not the
# person's activity, so it never keeps their session from idling out.
UPDATE_HEADER = b"x-livewell-update"


class Identity:
    """Who is signed in, and the sign-in pages. Built by `gateway.identity.pages.create_identity`,
    which gives it its pages and the app that serves them (the pages call back into this)."""

    def __init__(self, settings: Settings, pages: Pages,
                 cfg: IdentitySettings | None = None) -> None:
        self.settings = settings
        self.cfg = cfg or IdentitySettings()
        self.csrf = Csrf(settings.internal_secret)
        self.secure = settings.public_base_url.startswith("https://")
        self.pages = pages
        self.app: Any = None  # the sign-in pages' ASGI app, set by create_identity
        self._db: Database | None = None
        self._clock: Clock | None = None
        self._sessions: SessionStore | None = None
        self._limits: SignInLimits | None = None
        self._roster = Roster(None)
        self._client: ServiceClient | None = None

    def start(self, db: Database, clock: Clock, storage: Storage,
              client: ServiceClient | None = None) -> None:
        self._db, self._clock = db, clock
        self._roster = Roster(client)
        self._client = client if self.settings.test_clock else None
        self._sessions = SessionStore(db.sessionmaker, timedelta(minutes=self.cfg.idle_minutes),
                                      timedelta(hours=self.cfg.absolute_hours))
        self._limits = SignInLimits(storage, self.cfg.max_failures_per_account,
                                    self.cfg.max_failures_per_address, self.cfg.lockout_minutes)

    @property
    def db(self) -> Database:
        assert self._db is not None, "identity not started"
        return self._db

    @property
    def clock(self) -> Clock:
        assert self._clock is not None, "identity not started"
        return self._clock

    async def now(self) -> datetime:
        """The time sessions, codes and invitations are judged by. Under the test clock
        (LIVEWELL_TEST_CLOCK) it follows keyperson's, which tests move with every service's:
        the gateway itself offers no clock to move, its port being public."""
        if self._client is not None:
            try:
                resp = await self._client.post("keyperson", "/internal/clock/advance",
                                               {"seconds": 0}, timeout=2.0)
                if resp.ok and isinstance(resp.body, dict) and "now" in resp.body:
                    return datetime.fromisoformat(resp.body["now"])
            except Exception:  # keyperson not there (in-process tests): the own clock
                pass
        return self.clock.now()

    @staticmethod
    def serves(path: str) -> bool:
        """Paths the gateway answers itself, without a session."""
        return path in PAGES or path.startswith(PAGE_PREFIXES)

    def set_cookie(self, resp: Response, name: str, value: str, max_age: int | None = None) -> None:
        resp.set_cookie(name, value, max_age=max_age, path="/desk", httponly=True,
                        samesite="lax", secure=self.secure)

    async def resolve(self, cookie: str | None, activity: bool = True) -> Person | None:
        assert self._sessions is not None
        if not cookie:
            return None
        person = await self._sessions.resolve(cookie, await self.now(), activity)
        if person is not None and person.keyworker_id and not await self._roster.still_active(
                person.keyworker_id):
            await self._left_roster(person.keyworker_id)
            return None
        return person

    async def _left_roster(self, keyworker_id: str) -> None:
        """The key worker was removed from the roster: their accounts are disabled and every
        session of theirs ends now."""
        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            for account_id in await accounts.disable_keyworker(session, keyworker_id, now):
                audit(session, AuditEntry, Actor(kind="system"), "disable_left_roster",
                      "staff_account", account_id, now)

    async def person(self, headers: dict[bytes, bytes]) -> Person | None:
        """The signed-in person of a request's session cookie, or None. A request marked as a
        background update does not count as their activity."""
        return await self.resolve(_cookie(headers.get(b"cookie", b""), COOKIE),
                                  activity=not background(headers))

    def csrf_ok(self, method: str, person: Person, body: bytes, content_type: str) -> bool:
        """A state-changing desk request carries its session's CSRF token in `csrf_token`."""
        if method in SAFE_METHODS:
            return True
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return False
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200)
        return self.csrf.valid(person.session_token, (fields.get("csrf_token") or [""])[0])

    async def authenticate(self, method: str, path: str, headers: dict[bytes, bytes],
                           body: bytes, content_type: str, send: Send) -> Principal | None:
        """The person a `/desk/…` request is from, or None once it has been answered: a
        redirect to sign in (saying nothing about anyone), or a refusal of a forged form."""
        person = await self.person(headers)
        if person is None and background(headers):
            # htmx follows HX-Redirect with the whole page; a bare 303 would be followed by
            # the request itself and put the sign-in form inside the board.
            target = "/desk/sign-in?next=" + quote(_page_of(headers), safe="/")
            await _answer(send, 401, b"", [(b"hx-redirect", target.encode())])
            return None
        if person is None:
            target = "/desk/sign-in"
            if method in SAFE_METHODS and path != "/desk/":
                target += "?next=" + quote(path, safe="/")
            await _answer(send, 303, b"", [(b"location", target.encode())])
            return None
        if not self.csrf_ok(method, person, body, content_type):
            log.warning("desk form refused: CSRF token missing or wrong",
                        extra={"event": "identity.csrf_refused"})
            html = self.pages.render("error.jinja", {"status": 403}).encode()
            await _answer(send, 403, html, [(b"content-type", b"text/html; charset=utf-8")])
            return None
        return Principal(kind="person", person_id=person.account_id, person_role=person.role,
                         keyworker_id=person.keyworker_id,
                         csrf=self.csrf.token(person.session_token))

    async def unavailable(self, send: Send) -> None:
        """The desk did not answer: an NHS.UK error page, never a stack trace."""
        html = self.pages.render("error.jinja", {"status": 503}).encode()
        await _answer(send, 503, html, [(b"content-type", b"text/html; charset=utf-8"),
                                        (b"retry-after", b"2")])

    async def sign_in(self, email: str, password: str, code: str, address: str) -> str | None:
        """A new session's cookie value, or None (wrong, locked out or disabled)."""
        assert self._limits is not None
        key = accounts.normal_email(email)
        if await self._limits.locked(key, address):
            await self._audit_anon("signin_locked", key)
            return None
        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            account = await accounts.verify(session, email=email, password=password, code=code,
                                            now=now)
            if account is not None:
                token = self.start_session(session, account, "totp", now)
        if account is None:
            if await self._limits.failed(key, address) or await self._limits.locked(key, address):
                log.warning("sign-in locked out", extra={"event": "identity.lockout"})
                await self._audit_anon("lockout", key)
            else:
                await self._audit_anon("signin_failed", key)
            return None
        await self._limits.succeeded(key)
        return token

    @staticmethod
    def start_session(session: AsyncSession, account: StaffAccount, method: str,
                      now: datetime) -> str:
        """Begin a session in the caller's transaction (audited); the cookie's value."""
        audit(session, AuditEntry, _actor(account), "signin", "staff_account", account.id, now)
        return SessionStore.start(session, account, method, now)

    @staticmethod
    def actor_of(account: StaffAccount) -> Actor:
        return _actor(account)

    async def sso_sign_in(self, email: str, address: str) -> str | None:
        """A session for the invited account with this (provider-verified) email."""
        from sqlalchemy import select

        assert self._limits is not None
        key = accounts.normal_email(email)
        if await self._limits.locked(key, address):
            return None
        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            account = await session.scalar(select(StaffAccount)
                                           .where(StaffAccount.email == key))
            if account is not None and account.disabled_at is None:
                account.enrolled_at = account.enrolled_at or now
                return self.start_session(session, account, "oidc", now)
        await self._limits.failed(key, address)
        await self._audit_anon("signin_failed", key)
        return None

    async def passkey_sign_in(self, rp: Any, credential: dict[str, Any], challenge: bytes,
                              address: str) -> str | None:
        """A new session for the account whose passkey answered, or None (counted against
        the address's failures, and the account's when the passkey is known)."""
        from gateway.identity import passkeys

        assert self._limits is not None
        key = "passkey"
        if await self._limits.locked(key, address):
            return None
        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            account = await passkeys.authenticate(session, rp, credential, challenge, now)
            if account is not None:
                return self.start_session(session, account, "passkey", now)
        await self._limits.failed(key, address)
        await self._audit_anon("signin_failed", key)
        return None

    async def invitation(self, token: str) -> tuple[StaffInvitation, StaffAccount] | None:
        if len(token) > 100:
            return None
        now = await self.now()
        async with self.db.sessionmaker() as session:
            return await accounts.open_invitation(session, token, now)

    async def enrol(self, token: str, password: str, code: str) -> str:
        """Set up the invitee's sign-in and start their session; raises AccountError."""
        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            found = await accounts.open_invitation(session, token, now)
            if found is None:
                raise accounts.AccountError("password", "This invitation has been used or "
                                                        "has expired.")
            inv, account = found
            await accounts.enrol(session, inv, account, password=password, code=code, now=now,
                                 min_password_length=self.cfg.min_password_length)
            audit(session, AuditEntry, _actor(account), "enrol", "staff_account", account.id,
                  now)
            return self.start_session(session, account, "totp", now)

    async def sign_out(self, cookie: str) -> None:
        assert self._sessions is not None
        await self._sessions.end(cookie, await self.now())

    async def _audit_anon(self, action: str, email: str) -> None:
        """Failed and refused sign-ins are audited against the account, when there is one."""
        from sqlalchemy import select

        now = await self.now()
        async with self.db.sessionmaker() as session, session.begin():
            account_id = await session.scalar(select(StaffAccount.id)
                                              .where(StaffAccount.email == email))
            audit(session, AuditEntry, Actor(kind="anonymous"), action, "staff_account",
                  account_id or "unknown", now)


def _actor(account: StaffAccount) -> Actor:
    role: Any = account.role
    return Actor(kind="person", person_id=account.id, person_role=role,
                 keyworker_id=account.keyworker_id)


def background(headers: dict[bytes, bytes]) -> bool:
    """Is this request a page's own background update rather than the person's action?"""
    return bool(headers.get(UPDATE_HEADER))


def _page_of(headers: dict[bytes, bytes]) -> str:
    """The desk page a background update came from (htmx says it), to return to after
    signing in again; the desk's home when it is not a desk page."""
    from urllib.parse import urlsplit

    path = urlsplit(headers.get(b"hx-current-url", b"").decode("latin-1")).path
    return path if path.startswith("/desk/") and not path.startswith("//") else "/desk/"


def _cookie(raw: bytes, name: str) -> str | None:
    for part in raw.decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value or None
    return None


_PAGE_HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"no-referrer"),
                 (b"content-security-policy", content_security_policy().encode())]


async def _answer(send: Send, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, *_PAGE_HEADERS,
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
