"""Keyperson's wire models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.common.phone import E164Phone

Locality = str


class KeyWorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: E164Phone = Field(description="Mobile number; any UK format, stored as E.164.")
    email: EmailStr | None = None
    localities: list[Locality] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list,
                              description="e.g. `lang:pl`, `complex_needs`, `young_adults`.")
    max_caseload: int = Field(default=20, ge=0, le=500)


class KeyWorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    phone: str
    email: str | None
    localities: list[str]
    teams: list[str]
    skills: list[str]
    max_caseload: int
    caseload: int
    active: bool
    created_at: datetime
    updated_at: datetime
