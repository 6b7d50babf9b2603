"""Schema migrations: one PostgreSQL schema and one ordered list of SQL files per service.

A service keeps its migrations in `migrations/NNNN_name.sql`. At start-up, under an advisory lock (replicas
starting together apply them once), each file not yet recorded in the schema's `schema_migrations` table
runs in a transaction of its own with its record. A schema migrated by Alembic before (an
`alembic_version` table) is adopted: the versions up to Alembic's are recorded as applied, not re-run.

What every schema needs (the outbox, the processed events) is written once in `shared/sql/`: a line
`-- include: NAME` in a migration stands for `shared/sql/NAME.sql`, `@schema@` in it for the schema.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SHARED_SQL = Path(__file__).resolve().parent / "sql"
_INCLUDE = re.compile(r"^-- include: ([a-z_]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    def sql_for(self, schema: str) -> str:
        """The SQL to run in `schema`, with the shared pieces it includes."""
        return _INCLUDE.sub(lambda m: (SHARED_SQL / f"{m.group(1)}.sql").read_text().replace("@schema@", schema),
                            self.sql)


def read_migrations(directory: Path) -> list[Migration]:
    """The `NNNN_name.sql` files of `directory`, in order; a duplicate version is an error."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not (version.isdigit() and name):
            raise ValueError(f"{path}: a migration is named NNNN_name.sql")
        found.append(Migration(version, name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{directory}: two migrations share a version ({versions})")
    return found


async def upgrade(database_url: str, schema: str, directory: Path) -> list[str]:
    """Apply the migrations of `directory` not yet applied to `schema`; returns the versions applied."""
    migrations = read_migrations(directory)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", schema)
        try:
            return await _upgrade_locked(conn, schema, migrations)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", schema)
    finally:
        await conn.close()


async def _upgrade_locked(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    quoted = '"' + schema.replace('"', '""') + '"'
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    await conn.execute(f"SET search_path TO {quoted}, public")
    await conn.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version text PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )""")
    applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    if not applied:
        applied = await _adopt_alembic_history(conn, schema, migrations)
    done = []
    for migration in migrations:
        if migration.version in applied:
            continue
        async with conn.transaction():
            await conn.execute(migration.sql_for(schema))
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                               migration.version, migration.name)
        done.append(migration.version)
    return done


async def _adopt_alembic_history(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> set[str]:
    """Versions Alembic applied to this schema (revisions were named by the same numbers), recorded here."""
    if await conn.fetchval("SELECT to_regclass(format('%I.alembic_version', $1::text)) IS NULL", schema):
        return set()
    quoted = '"' + schema.replace('"', '""') + '"'
    head = await conn.fetchval(f"SELECT version_num FROM {quoted}.alembic_version")  # nosec B608 # quoted identifier
    if head is None:
        return set()
    adopted = [m for m in migrations if m.version <= head]
    if not adopted or adopted[-1].version != head:
        raise RuntimeError(f"schema {schema}: Alembic is at {head!r}, which no migration file matches")
    await conn.executemany("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                           [(m.version, m.name) for m in adopted])
    return {m.version for m in adopted}
