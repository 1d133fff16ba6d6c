"""Single sign-on against a fake OpenID Connect provider in-process: an invited account signs
in by its verified email; an unverified email, an unknown one, a forged token or a wrong
state are refused."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.app import create_app
from gateway.config import GatewaySettings
from services.common.migrations import upgrade
from tests.conftest import make_settings
from tests.gateway.conftest import GatewayHarness, Upstream
from tests.gateway.test_identity import BASE, invite
from tests.support.twilio import free_port

CLIENT_ID = "livewell-desk"
Sso = tuple[GatewayHarness, "FakeProvider"]


@dataclass
class FakeProvider:
    port: int
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, private=True, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key or self.key)

    async def start(self) -> None:
        async def discovery(_: web.Request) -> web.Response:
            return web.json_response({
                "issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks"})

        async def jwks(_: web.Request) -> web.Response:
            return web.json_response({"keys": [self.key.as_dict(private=False)]})

        async def token(request: web.Request) -> web.Response:
            form = await request.post()
            issued = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if issued is None or issued["challenge"] != challenge:
                return web.json_response({"error": "invalid_grant"}, status=400)
            return web.json_response({"access_token": "x", "token_type": "Bearer",
                                      "id_token": issued["id_token"]})

        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/jwks", jwks)
        app.router.add_post("/token", token)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def authorise(self, location: str, email: str, *, verified: bool = True,
                  forged: bool = False, nonce: str | None = None) -> tuple[str, str]:
        """What the provider does when the person signs in there: a code (and the state)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": email, "iat": now,
                  "exp": now + 300, "nonce": nonce or query["nonce"], "email": email,
                  "email_verified": verified}
        other = RSAKey.generate_key(2048, private=True) if forged else None
        code = f"code-{len(self.codes)}-{now}"
        self.codes[code] = {"challenge": query["code_challenge"],
                            "id_token": self.sign(claims, other)}
        return code, query["state"]


@pytest.fixture
async def sso(database_url: str, tmp_path: Any,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sso]:
    provider = FakeProvider(free_port())
    await provider.start()
    monkeypatch.setenv("OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "s3cret")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, tmp_path, intake_url=base, referral_url=base,
                             keyperson_url=base, notify_url=base, desk_url=base,
                             public_base_url=BASE)
    upgrade(settings, "gateway")
    upstream = Upstream(port)
    await upstream.start()
    gateway = create_app(settings, GatewaySettings())
    async with gateway.ops.router.lifespan_context(gateway.ops):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield GatewayHarness(gateway, client, upstream, settings), provider
    await upstream.stop()
    await provider.stop()


async def begin(gw: GatewayHarness) -> str:
    resp = await gw.client.get("/desk/sign-in/sso", params={"next": "/desk/h/LW-AAAA-BBBB"})
    assert resp.status_code == 303, resp.text
    location = resp.headers["location"]
    assert location.startswith(gw_provider_issuer(location) + "/authorize?")
    return location


def gw_provider_issuer(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}"


async def test_an_invited_person_signs_in_with_their_organisations_account(
    sso: Sso,
) -> None:
    gw, provider = sso
    await invite(gw, "sam@trust.example")
    page = await gw.client.get("/desk/sign-in")
    assert 'href="/desk/sign-in/sso"' in page.text
    code, state = provider.authorise(await begin(gw), "Sam@Trust.example")
    resp = await gw.client.get("/desk/sign-in/sso/callback", params={"code": code,
                                                                     "state": state})
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == "/desk/h/LW-AAAA-BBBB"
    assert (await gw.client.get("/desk/")).status_code == 200


@pytest.mark.parametrize("case", ["unverified", "unknown", "forged", "wrong_state",
                                  "wrong_nonce"])
async def test_sign_on_is_refused_unless_everything_checks_out(
    sso: Sso, case: str,
) -> None:
    gw, provider = sso
    await invite(gw, "kim@trust.example")
    location = await begin(gw)
    email = "nobody@trust.example" if case == "unknown" else "kim@trust.example"
    code, state = provider.authorise(location, email, verified=case != "unverified",
                                     forged=case == "forged",
                                     nonce="other" if case == "wrong_nonce" else None)
    resp = await gw.client.get("/desk/sign-in/sso/callback", params={
        "code": code, "state": "forged-state" if case == "wrong_state" else state})
    assert resp.status_code == 401
    assert "did not work" in resp.text
    assert (await gw.client.get("/desk/")).status_code == 303


async def test_without_oidc_settings_there_is_no_sign_on(
    database_url: str, tmp_path: Any,
) -> None:
    settings = make_settings(database_url, tmp_path, public_base_url=BASE)
    upgrade(settings, "gateway")
    gateway = create_app(settings, GatewaySettings())
    async with gateway.ops.router.lifespan_context(gateway.ops):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            assert (await client.get("/desk/sign-in/sso")).status_code == 404
            assert "/desk/sign-in/sso" not in (await client.get("/desk/sign-in")).text
