"""Notify's own settings (environment variables `NOTIFY_…`), beside the shared ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_POLICY = Path(__file__).with_name("escalation.yaml")


class NotifyConfig(BaseSettings):
    """How fast, how patiently and by which policy notify sends."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", env_file=".env", extra="ignore")

    policy_file: Path = Field(default=DEFAULT_POLICY,
                              description="The escalation policy (YAML), per urgency.")
    send_rate_per_second: float = Field(default=1.0, gt=0,
                                        description="Sends a second per sender number.")
    send_burst: int = Field(default=5, ge=1, description="Sends allowed at once before pacing.")
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)
    send_lease_seconds: float = Field(default=60.0, gt=0,
                                      description="After this, a send that never finished is "
                                                  "reconciled with Twilio and retried.")
    poll_seconds: float = Field(default=0.5, gt=0)
    batch: int = Field(default=20, ge=1)
    send_concurrency: int = Field(default=8, ge=1,
                                  description="Sends waiting on Twilio at once (each takes a "
                                              "round trip of 100-300 ms to Twilio's API).")
    help_replies_per_hour: int = Field(default=3, ge=0,
                                       description="Help replies to one number an hour.")
    dispatch_in_background: bool = Field(default=True,
                                         description="Run the dispatcher in the service.")
