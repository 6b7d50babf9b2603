"""Notifications: outbox rows its busy paths publish themselves after the commit wake no relay."""

from alembic import op

from shared.migrations import outbox_handover_downgrade_sql, outbox_handover_sql

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(outbox_handover_sql("notifications"))


def downgrade() -> None:
    op.execute(outbox_handover_downgrade_sql("notifications"))
