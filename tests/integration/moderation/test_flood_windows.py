"""Moderation's in-memory flooding windows against the real database: what another replica commits is seen
on the next batch, and what falls out of the 24 hours or beyond the newest ones is dropped."""

import asyncio
import secrets
import uuid
from datetime import timedelta

import asyncpg

from services.moderation.flood_windows import FloodWindows
from tests.harness import Stack


async def _insert(conn: asyncpg.Connection, territory: str, signature: int, age: timedelta = timedelta()) -> None:
    """A decided contribution as a moderation replica records it, received `age` ago."""
    await conn.execute(
        "INSERT INTO contributions (id, external_id, territory, country, consultation, language, body, "
        "submitted_at, received_at, signature, status) "
        "VALUES ($1, $2, $3, 'FR', 'c', 'fr', 'texte', now(), now() - $4::interval, $5, 'published')",
        uuid.uuid4(), secrets.token_hex(4), territory, age, signature,
    )


def _lists(signatures: dict) -> dict[str, list[int]]:
    return {territory: window.tolist() for territory, window in signatures.items()}


async def _windows_follow_what_replicas_commit(database_url: str) -> None:
    territory, quiet = f"fw-{secrets.token_hex(3)}", f"fw-{secrets.token_hex(3)}"
    as_moderation = {"search_path": "moderation"}
    replica = await asyncpg.connect(database_url, server_settings=as_moderation)  # another replica's batches
    conn = await asyncpg.connect(database_url, server_settings=as_moderation)
    try:
        await _insert(replica, territory, 1, timedelta(hours=25))  # outside the 24 hours
        await _insert(replica, territory, 2, timedelta(hours=2))
        await _insert(replica, territory, 3)
        windows = FloodWindows(limit=3)

        assert _lists(await windows.signatures(conn, [territory, quiet])) == {territory: [2, 3], quiet: []}

        await _insert(replica, territory, 4)
        await _insert(replica, quiet, 5)
        async with conn.transaction():  # read from within a batch's transaction, as the handler does
            assert _lists(await windows.signatures(conn, [territory, quiet])) == {territory: [2, 3, 4], quiet: [5]}

        await _insert(replica, territory, 6)
        assert (await windows.signatures(conn, [territory]))[territory].tolist() == [3, 4, 6], "the newest 3 are kept"
        assert (await windows.signatures(conn, [territory]))[territory].tolist() == [3, 4, 6], "read twice, kept once"

        # a batch that began before the last read and committed after it (its rows are dated from its start)
        await _insert(replica, territory, 7, timedelta(seconds=1))
        assert (await windows.signatures(conn, [territory]))[territory].tolist() == [4, 6, 7]
    finally:
        await replica.close()
        await conn.close()


def test_flood_windows_take_what_any_replica_committed_since_and_drop_the_old(stack: Stack):
    asyncio.run(_windows_follow_what_replicas_commit(stack.database_url))
