"""The gateway's own settings, on top of the shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Timeouts, size limits and rate limits of the public entry (`LIVEWELL_GATEWAY_*`)."""

    model_config = SettingsConfigDict(env_prefix="LIVEWELL_GATEWAY_", env_file=".env",
                                      extra="ignore")

    voice_timeout_seconds: float = Field(
        default=1.5, description="then the fail-safe answers: a caller hears it within 2 s")
    webhook_timeout_seconds: float = 10.0
    api_timeout_seconds: float = 15.0
    max_body_bytes: int = 1_000_000
    max_email_bytes: int = 20_000_000
    max_twilio_bytes: int = Field(
        default=65_536, description="Twilio's forms are a few KB; checked before the signature")
    max_form_params: int = Field(
        default=1_000, description="parameters in a Twilio form, counted before parsing it")
    key_cache_seconds: float = 5.0
    rate_limit_key: str = "600/minute"
    rate_limit_anonymous: str = Field(
        default="60/minute",
        description="failed authentications per source address; then 429 before any work")
    rate_limit_webhook: str = "6000/minute"
    rate_limit_public_pages: str = Field(
        default="600/minute",
        description="public page views (GET, and self-assessment scoring) per source address, "
        "counted by each gateway process: many people share a phone network's or a "
        "library's address")
    rate_limit_public_forms: str = Field(
        default="10/minute",
        description="public form sends (the website's contact form) per source address, in "
        "the shared store (Redis when set)")
    trusted_proxies: str = Field(
        default="", description="comma-separated addresses or networks of reverse proxies "
        "whose X-Forwarded-For names the client; empty: the socket's peer is the client")
    metrics_token: str | None = Field(
        default=None, description="bearer token of the Prometheus scraper; unset: /metrics "
        "answers only requests from loopback")
    metrics_cache_seconds: float = 5.0
