"""The Living Well Network directory (Open Referral UK entities) and signposts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import JSONType, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 36
CHILDREN = {
    "directory_contact": [sa.Column("name", sa.String(300))],
    "directory_phone": [sa.Column("contact_id", sa.String(ID)),
                        sa.Column("number", sa.String(60), nullable=False)],
    "directory_schedule": [sa.Column("freq", sa.String(10)), sa.Column("byday", sa.String(40)),
                           sa.Column("opens_at", sa.String(8)),
                           sa.Column("closes_at", sa.String(8)),
                           sa.Column("description", sa.Text)],
    "directory_service_area": [sa.Column("name", sa.String(300))],
    "directory_language": [sa.Column("code", sa.String(10))],
    "directory_attribute": [sa.Column("taxonomy_term_id", sa.String(ID))],
}
INDEXED = {"directory_language": "code", "directory_attribute": "taxonomy_term_id"}


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(ID), nullable=False)


def _extra() -> sa.Column[object]:
    return sa.Column("extra", JSONType, nullable=False)


def upgrade() -> None:
    op.create_table("directory_taxonomy", _id(),
                    sa.Column("name", sa.String(300), nullable=False),
                    sa.Column("description", sa.Text, nullable=False), _extra(),
                    sa.PrimaryKeyConstraint("id", name="pk_directory_taxonomy"))
    op.create_table("directory_taxonomy_term", _id(),
                    sa.Column("taxonomy_id", sa.String(ID)),
                    sa.Column("name", sa.String(300), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("term", sa.String(300)), sa.Column("parent_id", sa.String(ID)),
                    _extra(), sa.PrimaryKeyConstraint("id", name="pk_directory_taxonomy_term"))
    op.create_index("ix_directory_taxonomy_term_taxonomy_id", "directory_taxonomy_term",
                    ["taxonomy_id"])
    op.create_index("ix_directory_taxonomy_term_term", "directory_taxonomy_term", ["term"])
    op.create_table("directory_organization", _id(),
                    sa.Column("name", sa.String(300), nullable=False),
                    sa.Column("description", sa.Text, nullable=False), _extra(),
                    sa.PrimaryKeyConstraint("id", name="pk_directory_organization"))
    op.create_table("directory_service", _id(),
                    sa.Column("organization_id", sa.String(ID)),
                    sa.Column("name", sa.String(300), nullable=False),
                    sa.Column("description", sa.Text), sa.Column("url", sa.String(500)),
                    sa.Column("email", sa.String(300)),
                    sa.Column("status", sa.String(30), nullable=False), _extra(),
                    sa.Column("updated_at", UTCDateTime, nullable=False),
                    sa.PrimaryKeyConstraint("id", name="pk_directory_service"))
    op.create_index("ix_directory_service_organization_id", "directory_service",
                    ["organization_id"])
    op.create_table("directory_location", _id(),
                    sa.Column("location_type", sa.String(20), nullable=False),
                    sa.Column("name", sa.String(300)), sa.Column("postcode", sa.String(10)),
                    sa.Column("district", sa.String(5)), _extra(),
                    sa.PrimaryKeyConstraint("id", name="pk_directory_location"))
    op.create_index("ix_directory_location_district", "directory_location", ["district"])
    op.create_table("directory_service_at_location", _id(),
                    sa.Column("service_id", sa.String(ID), nullable=False),
                    sa.Column("location_id", sa.String(ID)),
                    sa.Column("position", sa.Integer, nullable=False), _extra(),
                    sa.PrimaryKeyConstraint("id", name="pk_directory_service_at_location"))
    op.create_index("ix_directory_service_at_location_service_id",
                    "directory_service_at_location", ["service_id"])
    op.create_index("ix_directory_service_at_location_location_id",
                    "directory_service_at_location", ["location_id"])
    for table, columns in CHILDREN.items():
        op.create_table(table, _id(), sa.Column("service_id", sa.String(ID), nullable=False),
                        sa.Column("position", sa.Integer, nullable=False), _extra(), *columns,
                        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"))
        op.create_index(f"ix_{table}_service_id", table, ["service_id"])
        if table in INDEXED:
            op.create_index(f"ix_{table}_{INDEXED[table]}", table, [INDEXED[table]])
    op.create_table(
        "directory_signpost", _id(),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("referral_id", sa.String(ID), nullable=False),
        sa.Column("person_id", sa.String(64)),
        sa.Column("service_id", sa.String(ID), nullable=False),
        sa.Column("service_name", sa.String(300), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("agreed", sa.Boolean, nullable=False),
        sa.Column("sent_by", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_directory_signpost"),
        sa.UniqueConstraint("idempotency_key", name="uq_directory_signpost_idempotency_key"))
    op.create_index("ix_directory_signpost_referral_id", "directory_signpost", ["referral_id"])
    op.create_index("ix_directory_signpost_created_at", "directory_signpost", ["created_at"])


def downgrade() -> None:
    op.drop_table("directory_signpost")
    for table in reversed(CHILDREN):
        op.drop_table(table)
    for table in ("directory_service_at_location", "directory_location", "directory_service",
                  "directory_organization", "directory_taxonomy_term", "directory_taxonomy"):
        op.drop_table(table)
