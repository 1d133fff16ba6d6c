"""Single sign-on with the organisation's OpenID Connect provider (Entra ID, NHS CIS2), when
`OIDC_ISSUER`, `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET` are set.

Authorization code flow with PKCE (Authlib's helpers) and a nonce; the state, nonce, verifier
and where to go after travel in a short-lived signed cookie (`lw_oidc`), so any replica can
finish the sign-in. The ID token is checked with the provider's published keys (joserfc):
issuer, audience, expiry and nonce. A person is matched to an account by a *verified* email;
nobody is created by signing on: an account is made only by an invitation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import (  # type: ignore[import-untyped]
    create_s256_code_challenge,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

COOKIE = "lw_oidc"
FLOW_SECONDS = 600
SCOPE = "openid email profile"


class SsoError(ValueError):
    """The provider's answer was not one to trust."""


@dataclass(frozen=True, slots=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str


class Provider:
    """One OpenID Connect provider: discovery and keys read once and kept for an hour."""

    def __init__(self, issuer: str, client_id: str, client_secret: str, redirect_uri: str,
                 secret: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._key = hashlib.sha256(b"livewell-oidc:" + secret.encode()).digest()
        self._meta: tuple[float, dict[str, Any], KeySet] | None = None

    async def _discovered(self) -> tuple[dict[str, Any], KeySet]:
        if self._meta is not None and self._meta[0] > time.monotonic():
            return self._meta[1], self._meta[2]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"{self.issuer}/.well-known/openid-configuration") as resp:
                meta = await resp.json(content_type=None)
            async with http.get(meta["jwks_uri"]) as resp:
                keys = KeySet.import_key_set(await resp.json(content_type=None))
        self._meta = (time.monotonic() + 3600, meta, keys)
        return meta, keys

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    async def start(self, next_path: str) -> tuple[str, str]:
        """Where to send the browser, and the cookie that remembers this flow."""
        meta, _ = await self._discovered()
        flow = Flow(generate_token(32), generate_token(32), generate_token(64), next_path)
        query = urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": SCOPE, "state": flow.state,
            "nonce": flow.nonce, "code_challenge": create_s256_code_challenge(flow.verifier),
            "code_challenge_method": "S256"})
        body = json.dumps([flow.state, flow.nonce, flow.verifier, flow.next,
                           int(time.time()) + FLOW_SECONDS], separators=(",", ":"))
        cookie = f"{body.encode().hex()}.{self._mac(body)}"
        return f"{meta['authorization_endpoint']}?{query}", cookie

    def flow(self, cookie: str | None, state: str) -> Flow:
        if not cookie or "." not in cookie:
            raise SsoError("no sign-on in progress")
        hexed, _, mac = cookie.partition(".")
        try:
            body = bytes.fromhex(hexed).decode()
        except ValueError as exc:
            raise SsoError("bad cookie") from exc
        if not hmac.compare_digest(self._mac(body), mac):
            raise SsoError("bad cookie")
        got_state, nonce, verifier, next_path, expiry = json.loads(body)
        if not hmac.compare_digest(str(got_state), state) or int(expiry) < time.time():
            raise SsoError("state does not match, or the sign-on took too long")
        return Flow(got_state, nonce, verifier, next_path)

    async def verified_email(self, code: str, flow: Flow) -> str:
        """Exchange the code; the ID token's email, when the provider says it is verified."""
        meta, keys = await self._discovered()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "code_verifier": flow.verifier,
                "client_id": self.client_id, "client_secret": self._client_secret}
        timeout = aiohttp.ClientTimeout(total=10)
        async with (aiohttp.ClientSession(timeout=timeout) as http,
                    http.post(meta["token_endpoint"], data=form) as resp):
            if resp.status != 200:
                raise SsoError(f"token endpoint answered {resp.status}")
            tokens = await resp.json(content_type=None)
        try:
            token = jwt.decode(str(tokens.get("id_token", "")), keys,
                               algorithms=["RS256", "ES256", "PS256"])
        except (JoseError, ValueError) as exc:
            raise SsoError("ID token not signed by the provider") from exc
        claims = token.claims
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        now = time.time()
        if (claims.get("iss", "").rstrip("/") != self.issuer or self.client_id not in audiences
                or float(claims.get("exp", 0)) < now - 60
                or not hmac.compare_digest(str(claims.get("nonce", "")), flow.nonce)):
            raise SsoError("ID token not for us, expired, or replayed")
        email = claims.get("email")
        if not email or claims.get("email_verified") is not True:
            raise SsoError("no verified email")
        return str(email)
