"""Schema migrations with Alembic: one schema and one migration history per service.

Each service keeps its revisions in `services/<name>/migrations/versions/`; its `env.py` calls
`run_alembic_env`. Migrations are applied at start-up under an advisory lock, so replicas starting
together apply them once.
"""

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def sqlalchemy_url(database_url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def alembic_config(database_url: str, service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["schema"] = service
    return config


def upgrade(database_url: str, service: str) -> None:
    command.upgrade(alembic_config(database_url, service), "head")


def run_alembic_env() -> None:
    """Body of every service's `migrations/env.py` (online mode only)."""
    config = context.config
    schema = config.attributes["schema"]
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(hashtext(:schema))"), {"schema": schema})
        try:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.execute(text(f'SET search_path TO "{schema}", public'))
            connection.commit()
            context.configure(
                connection=connection,
                version_table_schema=schema,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:schema))"), {"schema": schema})
            connection.commit()
    engine.dispose()


def plumbing_sql(schema: str) -> str:
    """Tables every service needs: processed events (idempotency) and the transactional outbox."""
    return f"""
    CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    );
    CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        subject text NOT NULL,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{{}}',
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{schema}_outbox', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
    """


# Outbox rows handed over to their writer (`OutboxRelay.transaction`) wake no relay: the trigger notifies
# `<schema>_outbox` only for an insert that holds other rows.
OUTBOX_HANDOVER_SQL = """
    ALTER TABLE outbox ADD COLUMN handed_over boolean NOT NULL DEFAULT false;
    DROP TRIGGER outbox_inserted ON outbox;
    CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM inserted WHERE NOT handed_over) THEN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
"""

OUTBOX_HANDOVER_DOWNGRADE_SQL = """
    DROP TRIGGER outbox_inserted ON outbox;
    CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
    ALTER TABLE outbox DROP COLUMN handed_over;
"""
