"""The migration runner on a real PostgreSQL: every service's SQL files apply to an empty schema once and in
order; a schema Alembic migrated before is adopted and only the newer files run; a failing file leaves
nothing of itself behind; replicas starting together apply each file once."""

import asyncio
import secrets
from pathlib import Path

import asyncpg
import pytest

from palabre.embedded import Postgres
from palabre.registry import SERVICES
from shared.migrations import read_migrations, upgrade

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
WITH_MIGRATIONS = [s.name for s in SERVICES if not s.background]  # a background worker applies its service's


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    postgres = Postgres(tmp_path_factory.mktemp("pg"))
    yield postgres.url
    postgres.stop()


async def _fetch(database_url: str, query: str, *args):
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def _recorded(database_url: str, schema: str) -> list[str]:
    rows = await _fetch(database_url, f'SELECT version FROM "{schema}".schema_migrations ORDER BY version')
    return [row["version"] for row in rows]


@pytest.mark.parametrize("service", WITH_MIGRATIONS)
async def test_every_services_migrations_apply_once_in_order(database_url, service):
    schema = f"fresh_{service}_{secrets.token_hex(3)}"
    directory = SERVICES_DIR / service / "migrations"
    versions = [m.version for m in read_migrations(directory)]
    assert versions and versions == sorted(versions)
    assert await upgrade(database_url, schema, directory) == versions
    assert await upgrade(database_url, schema, directory) == []  # a restart applies nothing
    assert await _recorded(database_url, schema) == versions
    outbox = await _fetch(database_url, "SELECT column_name FROM information_schema.columns "
                                        "WHERE table_schema = $1 AND table_name = 'outbox'", schema)
    assert "handed_over" in {row["column_name"] for row in outbox}  # the last plumbing migration ran


async def test_a_schema_migrated_by_alembic_is_adopted_and_only_newer_files_run(database_url):
    schema = f"alembic_{secrets.token_hex(3)}"
    directory = SERVICES_DIR / "intake" / "migrations"
    first, second, *newer = read_migrations(directory)
    conn = await asyncpg.connect(database_url)
    try:  # what Alembic left: the first two revisions' tables and its version table at "0002"
        await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}"')
        await conn.execute(first.sql_for(schema))
        await conn.execute(second.sql_for(schema))
        await conn.execute("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);"
                           "INSERT INTO alembic_version VALUES ('0002')")
        await conn.execute("INSERT INTO territories (id, name, kind, country, languages, timezone) "
                           "VALUES ('kept', 'Kept', 'ville', 'FR', '{fr}', 'Europe/Paris')")
    finally:
        await conn.close()
    assert await upgrade(database_url, schema, directory) == [m.version for m in newer]
    assert await _recorded(database_url, schema) == [first.version, second.version, *(m.version for m in newer)]
    assert [row["id"] for row in await _fetch(database_url, f'SELECT id FROM "{schema}".territories')] == ["kept"]


async def test_alembic_at_a_revision_no_file_matches_is_refused(database_url, tmp_path):
    schema = f"alembic_odd_{secrets.token_hex(3)}"
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE one (id int);")
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}";'
                           "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);"
                           "INSERT INTO alembic_version VALUES ('0007')")
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match="0007"):
        await upgrade(database_url, schema, tmp_path)


async def test_a_failing_migration_leaves_nothing_of_itself(database_url, tmp_path):
    schema = f"failing_{secrets.token_hex(3)}"
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE one (id int);")
    (tmp_path / "0002_two.sql").write_text("CREATE TABLE two (id int); SELECT * FROM no_such_table;")
    with pytest.raises(asyncpg.UndefinedTableError):
        await upgrade(database_url, schema, tmp_path)
    assert await _recorded(database_url, schema) == ["0001"]
    tables = await _fetch(database_url, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                          schema)
    assert {row["table_name"] for row in tables} == {"schema_migrations", "one"}
    (tmp_path / "0002_two.sql").write_text("CREATE TABLE two (id int);")  # fixed: the next start applies it
    assert await upgrade(database_url, schema, tmp_path) == ["0002"]


async def test_replicas_starting_together_apply_each_file_once(database_url):
    schema = f"replicas_{secrets.token_hex(3)}"
    directory = SERVICES_DIR / "notifications" / "migrations"
    results = await asyncio.gather(*(upgrade(database_url, schema, directory) for _ in range(3)))
    applied = [version for result in results for version in result]
    assert sorted(applied) == [m.version for m in read_migrations(directory)]


def test_an_include_stands_for_the_shared_sql_with_the_schema_filled_in():
    [first, *_] = read_migrations(SERVICES_DIR / "moderation" / "migrations")
    sql = first.sql_for("moderation")
    assert "-- include:" not in sql and "@schema@" not in sql
    assert "CREATE TABLE outbox (" in sql and "pg_notify('moderation_outbox', '')" in sql
    assert sql.index("CREATE TABLE outbox (") < sql.index("CREATE TABLE territories (")


def test_migration_files_are_named_by_version(tmp_path):
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="NNNN_name.sql"):
        read_migrations(tmp_path)
    (tmp_path / "first.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="share a version"):
        read_migrations(tmp_path)
