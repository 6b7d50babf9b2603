"""Notifications: inserting deliveries (fan-out, replays) notifies the delivery worker, which otherwise looked
for new ones ten times a second."""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('notifications_deliveries', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER deliveries_inserted AFTER INSERT ON deliveries
            FOR EACH STATEMENT EXECUTE FUNCTION notify_deliveries();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER deliveries_inserted ON deliveries; DROP FUNCTION notify_deliveries();")
