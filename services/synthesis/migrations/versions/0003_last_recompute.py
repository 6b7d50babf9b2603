"""Synthesis: when the last recompute finished and how long it took, so that every replica rests after
it in proportion (`PALABRE_SYNTHESIS_RECOMPUTE_SHARE`)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE last_recompute (
            single boolean PRIMARY KEY DEFAULT true CHECK (single),
            finished_at timestamptz NOT NULL,
            seconds double precision NOT NULL,
            scopes integer NOT NULL,
            contributions integer NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE last_recompute")
