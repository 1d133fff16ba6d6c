"""What every service builds in its lifespan: database, clock, client, outbox relay."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.clock import Clock
from services.common.db import Database
from services.common.http import ServiceClient
from services.common.kit_models import AuditMixin, InboxMixin, OutboxMixin
from services.common.outbox import OutboxRelay
from services.common.settings import ServiceName, Settings


@dataclass(frozen=True, slots=True)
class KitModels:
    """A service's concrete outbox, inbox and audit classes."""

    outbox: type[OutboxMixin]
    inbox: type[InboxMixin]
    audit: type[AuditMixin]


@dataclass
class Kit:
    service: ServiceName
    settings: Settings
    db: Database
    clock: Clock
    client: ServiceClient
    relay: OutboxRelay
    models: KitModels
    # The service's own parts (the dataclass of its `deps.py`), set once in its lifespan and
    # read back, checked, by `services.common.deps.own_of`.
    own: object | None = None
