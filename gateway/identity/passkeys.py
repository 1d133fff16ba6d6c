"""Passkeys (WebAuthn, py_webauthn): register one at the invitation, sign in with it.

The challenge travels in a short-lived signed cookie (`lw_webauthn`), so any gateway replica
can finish what another began. Credentials are discoverable (resident keys): signing in asks
for no email. The relying party is PUBLIC_BASE_URL's host; on a development machine whose
public URL is a loopback IP (not a valid WebAuthn RP ID) it is `localhost`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from gateway.identity.models import StaffAccount, StaffPasskey
from services.common.ids import new_id

COOKIE = "lw_webauthn"
CHALLENGE_TTL = timedelta(minutes=5)
RP_NAME = "Living Well Line"


class PasskeyError(ValueError):
    """The browser's answer did not verify (or came too late)."""


@dataclass(frozen=True, slots=True)
class RelyingParty:
    id: str
    origins: list[str]

    @classmethod
    def of(cls, public_base_url: str) -> RelyingParty:
        parts = urlsplit(public_base_url)
        host = parts.hostname or "localhost"
        origin = f"{parts.scheme}://{parts.netloc}"
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:  # development: browsers take "localhost" as RP ID, never an IP
            port = f":{parts.port}" if parts.port else ""
            return cls("localhost", [origin, f"{parts.scheme}://localhost{port}"])
        return cls(host, [origin])


class Challenges:
    """`challenge.purpose.expiry.mac` in a cookie, bound to what it is for."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"livewell-webauthn:" + secret.encode()).digest()

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def issue(self, purpose: str, now: datetime) -> tuple[bytes, str]:
        challenge = secrets.token_bytes(32)
        body = f"{bytes_to_base64url(challenge)}.{purpose}.{int((now + CHALLENGE_TTL).timestamp())}"
        return challenge, f"{body}.{self._mac(body)}"

    def take(self, cookie: str | None, purpose: str, now: datetime) -> bytes:
        if not cookie or cookie.count(".") != 3:
            raise PasskeyError("no challenge")
        body, _, mac = cookie.rpartition(".")
        challenge, got_purpose, expiry = body.split(".")
        if not hmac.compare_digest(self._mac(body), mac) or got_purpose != purpose:
            raise PasskeyError("wrong challenge")
        if int(expiry) < int(now.timestamp()):
            raise PasskeyError("challenge expired")
        padded = challenge + "=" * (-len(challenge) % 4)
        return base64.urlsafe_b64decode(padded)


def registration_options(rp: RelyingParty, account: StaffAccount, challenge: bytes,
                         existing: list[str]) -> str:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    options = generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_name=account.email, user_id=account.id.encode(),
        user_display_name=account.name or account.email, challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64(c)) for c in existing])
    return options_to_json(options)


def authentication_options(rp: RelyingParty, challenge: bytes) -> str:
    return options_to_json(generate_authentication_options(
        rp_id=rp.id, challenge=challenge,
        user_verification=UserVerificationRequirement.PREFERRED))


def register(session: AsyncSession, rp: RelyingParty, account: StaffAccount,
             credential: dict[str, Any], challenge: bytes, now: datetime) -> StaffPasskey:
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origins)
    except Exception as exc:  # the library raises several kinds; all mean "not verified"
        raise PasskeyError(type(exc).__name__) from exc
    key = StaffPasskey(
        id=new_id(), account_id=account.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=[str(t) for t in credential.get("response", {}).get("transports", [])][:8],
        created_at=now, last_used_at=None)
    session.add(key)
    return key


async def authenticate(session: AsyncSession, rp: RelyingParty, credential: dict[str, Any],
                       challenge: bytes, now: datetime) -> StaffAccount | None:
    """The account whose passkey signed this challenge, or None."""
    raw_id = str(credential.get("rawId") or credential.get("id") or "")[:1400]
    key = await session.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == raw_id))
    if key is None:
        return None
    account = await session.get(StaffAccount, key.account_id)
    if account is None or account.disabled_at is not None:
        return None
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origins, credential_public_key=_unb64(key.public_key),
            credential_current_sign_count=key.sign_count)
    except Exception:
        return None
    key.sign_count, key.last_used_at = verified.new_sign_count, now
    return account


async def passkeys_of(session: AsyncSession, account_id: str) -> list[str]:
    rows = await session.scalars(select(StaffPasskey.credential_id)
                                 .where(StaffPasskey.account_id == account_id))
    return list(rows.all())


def parse(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON the page's script posts: `{"csrf_token", "next"?, "credential": {...}}`."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PasskeyError("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("credential"), dict):
        raise PasskeyError("no credential")
    return data, data["credential"]


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
