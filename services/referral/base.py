"""The declarative base of referral's tables and the directory's, which share one metadata and
one Alembic history (a module of its own, so that neither models module imports the other's
importer)."""

from __future__ import annotations

from services.common.db import ServiceBase, new_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()
