"""Settings read once from the environment (and `.env`) into one typed object."""

from __future__ import annotations

import json
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["intake", "referral", "keyperson", "notify", "site", "desk", "gateway"]
SERVICES: tuple[ServiceName, ...] = ("intake", "referral", "keyperson", "notify", "site",
                                     "desk")
DEV_SECRETS_FILE = "dev-secrets.json"


class Settings(BaseSettings):
    """Every setting of the contract, plus the few internal ones the processes share."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_phone_number: str = "+442000000000"
    twilio_api_base_url: str = "https://api.twilio.com"
    gateway_port: int = 8000
    # Where the other processes reach the gateway (the desk's staff page asks it for accounts):
    # unset, this machine's own gateway on GATEWAY_PORT.
    gateway_url: str | None = None
    intake_url: str = "http://127.0.0.1:8001"
    referral_url: str = "http://127.0.0.1:8002"
    keyperson_url: str = "http://127.0.0.1:8003"
    notify_url: str = "http://127.0.0.1:8004"
    site_url: str = "http://127.0.0.1:8005"
    desk_url: str = "http://127.0.0.1:8006"
    email_inbound_secret: str | None = None
    smtp_url: str | None = None
    email_address: str = "help@livingwell.example"
    crisis_line_number: str | None = None

    # Internal: shared by the processes of one deployment, never by the public.
    internal_token: str | None = Field(default=None, alias="LIVEWELL_INTERNAL_TOKEN")
    var_dir: Path = Field(default=Path("var"), alias="LIVEWELL_VAR_DIR")
    log_level: str = Field(default="INFO", alias="LIVEWELL_LOG_LEVEL")
    test_clock: bool = Field(default=False, alias="LIVEWELL_TEST_CLOCK")
    relay_poll_seconds: float = Field(default=0.5, alias="LIVEWELL_RELAY_POLL_SECONDS")
    # Delivered outbox rows and inbox keys older than this are deleted (dead letters are kept).
    outbox_retention_days: float = Field(default=30.0, gt=0,
                                         alias="LIVEWELL_OUTBOX_RETENTION_DAYS")
    # An outbox row that fails the same way this many times in a row becomes a dead letter.
    outbox_max_failures: int = Field(default=8, ge=1, alias="LIVEWELL_OUTBOX_MAX_FAILURES")
    db_pool_size: int = Field(default=10, alias="LIVEWELL_DB_POOL_SIZE")
    bind_host: str = Field(default="127.0.0.1", alias="LIVEWELL_BIND_HOST")
    # Tests only: partners' webhooks may be delivered to 127.0.0.1 / ::1 (never other private
    # addresses). Off, deliveries go to public addresses only.
    webhook_allow_loopback: bool = Field(default=False, alias="LIVEWELL_WEBHOOK_ALLOW_LOOPBACK")

    def service_url(self, name: ServiceName) -> str:
        """Base URL of a service, or of the gateway."""
        if name == "gateway":
            return (self.gateway_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")
        return str(getattr(self, f"{name}_url")).rstrip("/")

    def service_port(self, name: ServiceName) -> int:
        """The port a service listens on: the one in its URL."""
        if name == "gateway":
            return self.gateway_port
        port = urlsplit(self.service_url(name)).port
        if port is None:
            raise ValueError(f"{name.upper()}_URL must carry an explicit port")
        return port

    @property
    def twilio_dry_run(self) -> bool:
        """No credentials: SMS and calls go to the dry-run transport."""
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @cached_property
    def _dev_secrets(self) -> dict[str, str]:
        return load_dev_secrets(self.var_dir)

    @property
    def twilio_signing_token(self) -> str:
        """The token that signs Twilio webhooks: the real one, or the development one."""
        return self.twilio_auth_token or self._dev_secrets["twilio_auth_token"]

    @property
    def email_secret(self) -> str:
        """Shared secret of the inbound mail webhook."""
        return self.email_inbound_secret or self._dev_secrets["email_inbound_secret"]

    @property
    def internal_secret(self) -> str:
        """Token the gateway and services use between themselves."""
        return self.internal_token or self._dev_secrets["internal_token"]


def load_dev_secrets(var_dir: Path) -> dict[str, str]:
    """Read the development secrets, creating them once; safe when processes race."""
    path = var_dir / DEV_SECRETS_FILE
    try:
        data: dict[str, str] = json.loads(path.read_text())
        return data
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    fresh = {
        "twilio_auth_token": secrets.token_hex(16),
        "email_inbound_secret": secrets.token_urlsafe(18),
        "internal_token": secrets.token_urlsafe(24),
    }
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(fresh))
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # atomic: the first writer wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    data = json.loads(path.read_text())
    return data
