"""Notifications: each subscription may ask for its own request rate and requests in flight (NULL: the
service's defaults)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE subscriptions ADD COLUMN max_in_flight integer CHECK (max_in_flight >= 1);
        ALTER TABLE subscriptions ADD COLUMN max_rate_per_s double precision CHECK (max_rate_per_s > 0);
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE subscriptions DROP COLUMN max_in_flight, DROP COLUMN max_rate_per_s")
