"""Settings only intake reads: the SMTP listener, size limits and where the wording lives."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(__file__).parent / "data"


class IntakeSettings(BaseSettings):
    """`INTAKE_…` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", env_file=".env", extra="ignore")

    smtp_listen_port: int | None = Field(
        default=None, description="Port of the inbound SMTP listener; unset: no listener.")
    smtp_listen_host: str = "127.0.0.1"
    email_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024,
                                 description="Largest inbound email accepted (webhook or SMTP).")
    email_max_text_chars: int = Field(default=100_000, ge=1000,
                                      description="Longer bodies are stored cut to this length.")
    open_referral_days: int = Field(default=28, ge=1,
                                    description="A later message joins a referral this recent.")
    lookup_timeout_seconds: float = Field(default=1.5, gt=0, le=5)
    reply_timeout_seconds: float = Field(default=2.0, gt=0, le=5)
    ivr_file: Path = DATA_DIR / "ivr.yaml"
    replies_file: Path = DATA_DIR / "replies.yaml"
    crisis_phrases_file: Path = DATA_DIR / "crisis_phrases.yaml"
