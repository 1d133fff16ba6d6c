"""People, identifiers, contacts, referral links, callbacks and SMS preferences.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import JSONType, UTCDateTime
from services.common.kit_models import BigId, create_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "person",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("given_name", sa.String(200)),
        sa.Column("family_name", sa.String(200)),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("postcode", sa.String(10)),
        sa.Column("merged_into", sa.String(36)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
    )
    op.create_index("ix_person_merged_into", "person", ["merged_into"])
    op.create_table(
        "person_identifier",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_identifier"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name="fk_person_identifier_person_id_person"),
        sa.UniqueConstraint("kind", "value", name="uq_person_identifier_kind_value"),
    )
    op.create_index("ix_person_identifier_person_id", "person_identifier", ["person_id"])
    op.create_table(
        "possible_match",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_possible_match"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name="fk_possible_match_person_id_person"),
        sa.ForeignKeyConstraint(["candidate_id"], ["person.id"],
                                name="fk_possible_match_candidate_id_person"),
        sa.UniqueConstraint("person_id", "candidate_id",
                            name="uq_possible_match_person_id_candidate_id"),
    )
    op.create_index("ix_possible_match_person_id", "possible_match", ["person_id"])
    op.create_index("ix_possible_match_candidate_id", "possible_match", ["candidate_id"])
    op.create_table(
        "contact",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("external_id", sa.String(400), nullable=False),
        sa.Column("person_id", sa.String(36)),
        sa.Column("from_address", sa.String(320)),
        sa.Column("reference", sa.String(20)),
        sa.Column("ivr_choice", sa.String(20)),
        sa.Column("outcome", sa.String(30)),
        sa.Column("crisis", sa.Boolean, nullable=False),
        sa.Column("subject", sa.String(1000)),
        sa.Column("body", sa.Text),
        sa.Column("recording_url", sa.String(1000)),
        sa.Column("reply", sa.Text),
        sa.Column("ack_message_id", sa.String(400)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact"),
        sa.UniqueConstraint("channel", "external_id", name="uq_contact_channel_external_id"),
    )
    op.create_index("ix_contact_person_id", "contact", ["person_id"])
    op.create_index("ix_contact_reference", "contact", ["reference"])
    op.create_index("ix_contact_ack_message_id", "contact", ["ack_message_id"])
    op.create_table(
        "referral_link",
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("referral_id", sa.String(36)),
        sa.Column("person_id", sa.String(36)),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("urgency", sa.String(20)),
        sa.Column("respond_by", UTCDateTime),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("reference", name="pk_referral_link"),
        sa.UniqueConstraint("referral_id", name="uq_referral_link_referral_id"),
    )
    op.create_index("ix_referral_link_person_id", "referral_link", ["person_id"])
    op.create_table(
        "callback",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36)),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("risk", sa.String(10), nullable=False),
        sa.Column("risk_rank", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(20)),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_callback"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"],
                                name="fk_callback_contact_id_contact"),
        sa.UniqueConstraint("contact_id", "reason", name="uq_callback_contact_id_reason"),
    )
    op.create_index("ix_callback_person_id", "callback", ["person_id"])
    op.create_index("ix_callback_queue", "callback", ["status", "risk_rank", "due_at"])
    op.create_table(
        "callback_attempt",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("actor_key_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_callback_attempt"),
        sa.ForeignKeyConstraint(["callback_id"], ["callback.id"],
                                name="fk_callback_attempt_callback_id_callback"),
    )
    op.create_index("ix_callback_attempt_callback_id", "callback_attempt", ["callback_id"])
    op.create_table(
        "sms_preference",
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("phone", name="pk_sms_preference"),
    )


def downgrade() -> None:
    for table in ("sms_preference", "callback_attempt", "callback", "referral_link", "contact",
                  "possible_match", "person_identifier", "person", "audit_log", "inbox",
                  "outbox"):
        op.drop_table(table)
