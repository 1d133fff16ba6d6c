"""A caseload counts people; one mobile per active key worker; waiting referrals are found
by status.

Each worker's caseload is counted again as the people (not the referrals) they hold. A
unique index on the phones of active workers makes two workers with the same mobile
impossible even when two requests race (their reply codes would mix); on a roster that has
such a pair already the index is left out and the pair is logged by worker id, for staff to
settle (the API refuses any new pair either way).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
ACTIVE = "active"  # rendered as a boolean column test by both dialects


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("""
        UPDATE keyworker SET caseload = (
            SELECT count(DISTINCT coalesce(a.person_id, a.referral_id)) FROM assignment a
            WHERE a.keyworker_id = keyworker.id AND a.status IN ('offered', 'accepted'))""")
    shared = bind.execute(sa.text(
        "SELECT phone, count(*) FROM keyworker WHERE active GROUP BY phone "
        "HAVING count(*) > 1")).all()
    if shared:
        for phone, _ in shared:
            ids = bind.execute(sa.text("SELECT id FROM keyworker WHERE active AND phone = :p"),
                               {"p": phone}).scalars().all()
            log.warning("active key workers share a mobile; unique index not created: %s",
                        ", ".join(ids))
    else:
        op.create_index("uq_keyworker_phone_active", "keyworker", ["phone"], unique=True,
                        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_index("ix_assignment_status_respond_by", "assignment", ["status", "respond_by"])


def downgrade() -> None:
    op.drop_index("ix_assignment_status_respond_by", "assignment")
    op.execute("DROP INDEX IF EXISTS uq_keyworker_phone_active")
