"""Settings of sign-in and sessions (`LIVEWELL_IDENTITY_*`), and of single sign-on (`OIDC_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVEWELL_IDENTITY_", env_file=".env",
                                      extra="ignore", populate_by_name=True)

    idle_minutes: float = Field(default=15.0, gt=0, description="a session ends this idle")
    absolute_hours: float = Field(default=12.0, gt=0, description="and this long after sign-in")
    invitation_hours: float = Field(default=72.0, gt=0)
    # Failed sign-ins before a lockout, per account and per client address, in `window`.
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    lockout_minutes: int = 15
    min_password_length: int = 12

    oidc_issuer: str | None = Field(default=None, alias="OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, alias="OIDC_CLIENT_ID")
    oidc_client_secret: str | None = Field(default=None, alias="OIDC_CLIENT_SECRET")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)
