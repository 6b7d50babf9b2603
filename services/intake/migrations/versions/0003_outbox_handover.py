"""Intake: outbox rows its busy paths publish themselves after the commit wake no relay."""

from alembic import op

from shared.migrations import OUTBOX_HANDOVER_DOWNGRADE_SQL, OUTBOX_HANDOVER_SQL

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(OUTBOX_HANDOVER_SQL)


def downgrade() -> None:
    op.execute(OUTBOX_HANDOVER_DOWNGRADE_SQL)
