"""Synthesis: a recompute a person asked for (`POST /v1/syntheses/recompute`) is due at once, even while
the pipeline is busy and recomputes from changes wait."""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("ALTER TABLE recompute_requests ADD COLUMN asked boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE recompute_requests DROP COLUMN asked")
