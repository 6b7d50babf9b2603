"""Synthesis's SQL: published contributions, live counts, computed syntheses."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db import bulk_insert
from shared.events import ConsultationOpened, TerritoryRegistered

UNCLASSIFIED = "non-classe"


async def upsert_territory(conn: asyncpg.Connection, event: TerritoryRegistered) -> None:
    await conn.execute(
        "INSERT INTO territories (id, name, country) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, country = EXCLUDED.country",
        event.territory, event.name, event.country,
    )


async def upsert_consultation(conn: asyncpg.Connection, event: ConsultationOpened) -> None:
    await conn.execute(
        "INSERT INTO consultations (id, territory, framework) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET framework = EXCLUDED.framework",
        event.consultation, event.territory, event.framework.model_dump(mode="json"),
    )


async def frameworks(conn, consultation_ids: Sequence[str]) -> dict[str, dict]:
    rows = await conn.fetch("SELECT id, framework FROM consultations WHERE id = ANY($1::text[])",
                            list(consultation_ids))
    return {row["id"]: row["framework"] for row in rows}


PUBLISHED_COLUMNS = [
    ("id", "uuid"), ("territory", "text"), ("country", "bpchar"), ("consultation", "text"), ("kind", "text"),
    ("author_role", "text"), ("channel", "text"), ("language", "text"), ("title", "text"), ("text", "text"),
    ("submitted_at", "timestamptz"), ("published_at", "timestamptz"), ("source_axis", "text"), ("axis", "text"),
    ("axis_source", "text"), ("axis_confidence", "float4"),
]


async def insert_published(conn: asyncpg.Connection, rows: Sequence[tuple]) -> list[tuple]:
    """Insert newly published contributions; returns the rows actually inserted (for the counts)."""
    inserted = await bulk_insert(
        conn, "contributions", PUBLISHED_COLUMNS, rows,
        suffix="ON CONFLICT (id) DO NOTHING RETURNING territory, country, axis, kind, author_role, channel",
    )
    return [tuple(row) for row in inserted]


async def remove_published(conn: asyncpg.Connection, ids: Sequence[str]) -> list[tuple]:
    removed = await conn.fetch(
        "DELETE FROM contributions WHERE id = ANY($1::uuid[]) "
        "RETURNING territory, country, axis, kind, author_role, channel",
        list(ids),
    )
    return [tuple(row) for row in removed]


async def add_counts(conn: asyncpg.Connection, keys: Sequence[tuple], sign: int = 1) -> None:
    """Add (or remove) one per (territory, country, axis, kind, role, channel) key."""
    counter = Counter(
        (t, c, axis or UNCLASSIFIED, kind or "-", role or "-", channel or "-")
        for t, c, axis, kind, role, channel in keys
    )
    if not counter:
        return
    columns = [list(c) for c in zip(*[(*key, sign * n) for key, n in sorted(counter.items())], strict=True)]
    await conn.execute(
        """
        INSERT INTO counts (territory, country, axis, kind, author_role, channel, n)
        SELECT * FROM unnest($1::text[], $2::bpchar[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[])
        ON CONFLICT (territory, axis, kind, author_role, channel) DO UPDATE SET n = counts.n + EXCLUDED.n
        """,
        *columns,
    )


def scope_filter(scope: str, key: str) -> tuple[str, list[Any]]:
    if scope == "network":
        return "TRUE", []
    if scope == "country":
        return "country = $1", [key.upper()]
    return "territory = $1", [key]


async def counts(pool: asyncpg.Pool, scope: str, key: str) -> list[dict[str, Any]]:
    where, args = scope_filter(scope, key)
    rows = await pool.fetch(
        f"SELECT axis, kind, author_role, channel, sum(n)::bigint AS n FROM counts WHERE {where} AND n <> 0 "
        "GROUP BY axis, kind, author_role, channel ORDER BY axis, kind, author_role, channel",
        *args,
    )
    return [dict(row) for row in rows]


async def latest_synthesis(pool: asyncpg.Pool, scope: str, key: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT version, contributions_count, document, computed_at FROM syntheses "
        "WHERE scope = $1 AND key = $2 ORDER BY version DESC LIMIT 1",
        scope, key,
    )
    return dict(row) if row else None


async def territory_exists(pool: asyncpg.Pool, territory: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM territories WHERE id = $1", territory))


async def contribution(pool: asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT id, territory, country, consultation, axis, axis_source, axis_confidence, subtheme, kind "
        "FROM contributions WHERE id = $1",
        contribution_id,
    )
    return dict(row) if row else None
