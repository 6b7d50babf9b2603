"""Moderation's SQL."""

from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db import bulk_insert
from shared.events import ConsultationOpened, TerritoryRegistered


async def upsert_territory(conn: asyncpg.Connection, event: TerritoryRegistered) -> None:
    await conn.execute(
        """
        INSERT INTO territories (id, name, country, moderation_mode, auto_reject_grounds, languages)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, country = EXCLUDED.country,
            moderation_mode = EXCLUDED.moderation_mode, auto_reject_grounds = EXCLUDED.auto_reject_grounds,
            languages = EXCLUDED.languages
        """,
        event.territory, event.name, event.country, event.moderation_mode.value, event.auto_reject_grounds,
        event.languages,
    )


async def upsert_consultation(conn: asyncpg.Connection, event: ConsultationOpened) -> None:
    await conn.execute(
        "INSERT INTO consultations (id, territory, framework) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET framework = EXCLUDED.framework",
        event.consultation, event.territory, event.framework.model_dump(mode="json"),
    )


async def territories(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM territories WHERE id = ANY($1::text[])", list(ids))
    return {row["id"]: dict(row) for row in rows}


async def frameworks(conn: asyncpg.Connection, consultation_ids: Sequence[str]) -> dict[str, dict]:
    rows = await conn.fetch("SELECT id, framework FROM consultations WHERE id = ANY($1::text[])",
                            list(consultation_ids))
    return {row["id"]: row["framework"] for row in rows}


async def recent_signatures(conn: asyncpg.Connection, territories: Sequence[str], *, window_hours: int = 24,
                            limit: int = 5000) -> dict[str, list[int]]:
    rows = await conn.fetch(
        """
        SELECT t.id AS territory, s.signature FROM unnest($1::text[]) AS t(id)
        CROSS JOIN LATERAL (
            SELECT signature FROM contributions
            WHERE territory = t.id AND signature IS NOT NULL
              AND received_at > now() - make_interval(hours => $2)
            ORDER BY received_at DESC LIMIT $3
        ) s
        """,
        list(territories), window_hours, limit,
    )
    out: dict[str, list[int]] = {}
    for row in rows:
        out.setdefault(row["territory"], []).append(row["signature"])
    return out


CONTRIBUTION_COLUMNS = [
    ("id", "uuid"), ("external_id", "text"), ("territory", "text"), ("country", "bpchar"),
    ("consultation", "text"), ("axis", "text"), ("kind", "text"), ("author_role", "text"), ("channel", "text"),
    ("language", "text"), ("title", "text"), ("body", "text"), ("submitted_at", "timestamptz"),
    ("flags", "jsonb"), ("redacted_title", "text"), ("redacted_body", "text"), ("redacted_spans", "jsonb"),
    ("signature", "int8"), ("status", "text"), ("decided_at", "timestamptz"),
]
DECISION_COLUMNS = [
    ("id", "uuid"), ("contribution_id", "uuid"), ("outcome", "text"), ("grounds", "jsonb"), ("automated", "bool"),
    ("decided_by", "text"), ("decided_at", "timestamptz"), ("decision", "jsonb"),
]


async def insert_contributions(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    await bulk_insert(conn, "contributions", CONTRIBUTION_COLUMNS, rows, suffix="ON CONFLICT (id) DO NOTHING")


async def insert_decisions(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    """(id, contribution_id, outcome, grounds, automated, decided_by, decided_at, decision json)."""
    await bulk_insert(conn, "decisions", DECISION_COLUMNS, rows, suffix="ON CONFLICT (id) DO NOTHING")


async def get_contribution(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM contributions WHERE id = $1", contribution_id)
    return dict(row) if row else None


async def decisions_of(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM decisions WHERE contribution_id = $1 ORDER BY decided_at", contribution_id
    )
    return [dict(row) for row in rows]


async def set_status(conn: asyncpg.Connection, contribution_id: str, status: str, *, decided_at,
                     redacted_title: str | None = None, redacted_body: str | None = None,
                     redacted_spans: list | None = None) -> None:
    await conn.execute(
        """
        UPDATE contributions SET status = $2, decided_at = $3,
            redacted_title = COALESCE($4, redacted_title), redacted_body = COALESCE($5, redacted_body),
            redacted_spans = COALESCE($6, redacted_spans)
        WHERE id = $1
        """,
        contribution_id, status, decided_at, redacted_title, redacted_body, redacted_spans,
    )


async def insert_appeal(conn: asyncpg.Connection, appeal_id: str, contribution_id: str, reason: str,
                        filed_by: str) -> None:
    await conn.execute(
        "INSERT INTO appeals (id, contribution_id, reason, filed_by) VALUES ($1, $2, $3, $4)",
        appeal_id, contribution_id, reason, filed_by,
    )


async def open_appeal(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT * FROM appeals WHERE contribution_id = $1 AND resolved_at IS NULL ORDER BY filed_at LIMIT 1",
        contribution_id,
    )
    return dict(row) if row else None


async def resolve_appeals(conn: asyncpg.Connection, contribution_id: str, by: str, resolution: str) -> None:
    await conn.execute(
        "UPDATE appeals SET resolved_at = now(), resolved_by = $2, resolution = $3 "
        "WHERE contribution_id = $1 AND resolved_at IS NULL",
        contribution_id, by, resolution,
    )
