"""Intake's SQL. Bulk paths use one multi-row statement (unnest), never a round trip per row."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.intake.domain.registry import ConsultationIn, TerritoryIn
from shared.db import Insert, bulk_insert, json_text
from shared.frameworks import Framework


@dataclass(frozen=True, slots=True)
class ContributionRow:
    """A contribution as intake keeps it when taken in."""

    id: str
    territory: str
    external_id: str
    consultation: str
    axis: str | None
    kind: str | None
    author_role: str | None
    channel: str | None
    language: str
    title: str | None
    body: str
    submitted_at: datetime
    author_ref: str | None

    @property
    def text(self) -> tuple[str | None, str]:
        """What makes a re-sent contribution a duplicate rather than a conflict."""
        return self.title, self.body


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A decision as intake records it on its contribution (`decision` is the whole decision)."""

    id: str
    status: str
    decision: dict[str, Any]
    decided_at: datetime
    published_title: str | None
    published_text: str | None


CONTRIBUTION_COLUMNS = [
    ("id", "uuid"), ("territory", "text"), ("external_id", "text"), ("consultation", "text"), ("axis", "text"),
    ("kind", "text"), ("author_role", "text"), ("channel", "text"), ("language", "text"), ("title", "text"),
    ("body", "text"), ("submitted_at", "timestamptz"), ("author_ref", "text"),
]


async def insert_territory(conn: asyncpg.Connection, territory: TerritoryIn) -> bool:
    status = await conn.execute(
        """
        INSERT INTO territories (id, name, kind, country, languages, timezone, charter_version,
                                 charter_accepted_at, moderation_mode, auto_reject_grounds, licence)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (id) DO NOTHING
        """,
        territory.id, territory.name, territory.kind.value, territory.country, territory.languages,
        territory.timezone, territory.charter_version, territory.charter_accepted_at,
        territory.moderation_mode.value, territory.auto_reject_grounds, territory.licence,
    )
    return status.endswith(" 1")


async def get_territory(conn: asyncpg.Connection | asyncpg.Pool, territory: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM territories WHERE id = $1", territory)
    return dict(row) if row else None


async def list_territories(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(row) for row in await pool.fetch("SELECT * FROM territories ORDER BY id")]


async def add_api_key(conn: asyncpg.Connection, territory: str, key_hash: str) -> int:
    return await conn.fetchval(
        "INSERT INTO api_keys (key_hash, territory) VALUES ($1, $2) RETURNING id", key_hash, territory
    )


async def revoke_api_keys(conn: asyncpg.Connection, territory: str, key_id: int | None = None) -> int:
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE territory = $1 AND revoked_at IS NULL "
        "AND ($2::bigint IS NULL OR id = $2)",
        territory, key_id,
    )
    return int(status.split()[-1])


async def territory_for_key(pool: asyncpg.Pool, key_hash: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT t.id, t.country, t.timezone, t.languages FROM api_keys k JOIN territories t ON t.id = k.territory "
        "WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        key_hash,
    )
    return dict(row) if row else None


async def insert_consultation(conn: asyncpg.Connection, consultation: ConsultationIn, framework: Framework) -> bool:
    status = await conn.execute(
        "INSERT INTO consultations (id, territory, title, framework, opens_at, closes_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        consultation.id, consultation.territory, consultation.title, framework.model_dump(mode="json"),
        consultation.opens_at, consultation.closes_at,
    )
    return status.endswith(" 1")


async def close_consultation(conn: asyncpg.Connection, consultation: str, closed_at: datetime) -> dict | None:
    row = await conn.fetchrow(
        "UPDATE consultations SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL RETURNING *",
        consultation, closed_at,
    )
    return dict(row) if row else None


async def consultations_of(conn: asyncpg.Connection | asyncpg.Pool, territory: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, territory, title, framework, opens_at, closes_at, closed_at FROM consultations "
        "WHERE territory = $1 ORDER BY created_at, id",
        territory,
    )
    return [dict(row) for row in rows]


async def insert_contributions(conn: asyncpg.Connection, rows: Sequence[ContributionRow], events: Insert) -> set[str]:
    """Insert new contributions and, in the same statement, the events of those actually inserted (`events`:
    an outbox insert of one row per contribution, in the same order); returns the ids inserted (the others
    were already there)."""
    if not rows:
        return set()
    contributions_sql, arrays = Insert(
        "contributions", CONTRIBUTION_COLUMNS, rows,
        suffix="ON CONFLICT (territory, external_id) DO NOTHING RETURNING id").statement()
    of_new = Insert(events.table, events.columns,
                    [(*event, row.id) for event, row in zip(events.rows, rows, strict=True)], events.suffix,
                    passing=[("contribution_id", "uuid")], where="u.contribution_id IN (SELECT id FROM new)")
    events_sql, event_arrays = of_new.statement(len(arrays) + 1)
    sql = f"WITH new AS ({contributions_sql}), queued AS ({events_sql}) SELECT id FROM new"  # nosec B608 # code constants; values are bind parameters
    inserted = await conn.fetch(sql, *arrays, *event_arrays)
    return {str(row["id"]) for row in inserted}


async def contribution_texts(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
    """(title, body) of the contributions already stored among `ids`."""
    if not ids:
        return {}
    rows = await conn.fetch("SELECT id, title, body FROM contributions WHERE id = ANY($1::uuid[])", list(ids))
    return {str(row["id"]): (row["title"], row["body"]) for row in rows}


async def get_contribution(pool: asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT id, external_id, territory, status, decision, published_title, published_text, erasure_id, "
        "erased_at FROM contributions WHERE id = $1",
        contribution_id,
    )
    return dict(row) if row else None


async def apply_decisions(conn: asyncpg.Connection, decisions: Sequence[DecisionRow]) -> None:
    """The newest decision wins (ties: the larger decision id, as `shared.decision_order` rules), and none
    changes an erased contribution."""
    latest: dict[str, DecisionRow] = {}  # one row per contribution: an UPDATE takes an arbitrary one of several
    for row in decisions:
        held = latest.get(row.id)
        if held is None or (row.decided_at, row.decision["id"]) > (held.decided_at, held.decision["id"]):
            latest[row.id] = row
    if not latest:
        return
    rows = list(latest.values())
    await conn.execute(
        """
        UPDATE contributions AS c
        SET status = d.status, decision = d.decision::jsonb, decided_at = d.decided_at,
            published_title = d.published_title, published_text = d.published_text
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
             AS d(id, status, decision, decided_at, published_title, published_text)
        WHERE c.id = d.id AND c.erased_at IS NULL
          AND (c.decided_at IS NULL OR (c.decided_at, c.decision->>'id') < (d.decided_at, d.decision::jsonb->>'id'))
        """,
        [r.id for r in rows], [r.status for r in rows], [json_text(r.decision) for r in rows],
        [r.decided_at for r in rows], [r.published_title for r in rows], [r.published_text for r in rows],
    )


async def erase_contribution(conn: asyncpg.Connection, contribution_id: str, erasure_id: str,
                             erased_by: str) -> dict[str, Any] | None:
    """Remove a contribution's text and author reference, keep its decision trail; returns the contribution
    with its territory's country (None when unknown). Erasing it again changes nothing."""
    row = await conn.fetchrow(
        """
        UPDATE contributions c SET body = '', title = NULL, author_ref = NULL, published_title = NULL,
            published_text = NULL, status = 'erased', erasure_id = coalesce(c.erasure_id, $2),
            erased_at = coalesce(c.erased_at, now()), erased_by = coalesce(c.erased_by, $3)
        FROM territories t WHERE c.id = $1 AND t.id = c.territory
        RETURNING c.id::text, c.external_id, c.territory, t.country::text AS country, c.erasure_id::text,
                  c.erased_at, c.erased_by
        """,
        contribution_id, erasure_id, erased_by,
    )
    return dict(row) if row else None


async def set_nats_user(conn: asyncpg.Connection, territory: str, username: str, password_hash: str) -> None:
    """Create or replace (rotate) the territory's NATS user."""
    await conn.execute(
        """
        INSERT INTO nats_users (territory, username, password_hash) VALUES ($1, $2, $3)
        ON CONFLICT (territory) DO UPDATE
        SET password_hash = EXCLUDED.password_hash, created_at = now(), revoked_at = NULL
        """,
        territory, username, password_hash,
    )


async def revoke_nats_user(conn: asyncpg.Connection, territory: str) -> bool:
    status = await conn.execute(
        "UPDATE nats_users SET revoked_at = now() WHERE territory = $1 AND revoked_at IS NULL", territory
    )
    return status.endswith(" 1")


async def active_nats_users(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT territory, username, password_hash FROM nats_users WHERE revoked_at IS NULL ORDER BY territory"
    )
    return [dict(row) for row in rows]


async def get_consultation(conn: asyncpg.Connection | asyncpg.Pool, consultation: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM consultations WHERE id = $1", consultation)
    return dict(row) if row else None


async def export_rows(pool: asyncpg.Pool, territory: str, limit: int) -> list[dict[str, Any]]:
    """What a territory system reconciles against: its contributions and what became of them."""
    rows = await pool.fetch(
        "SELECT id, external_id, consultation, axis, kind, status, submitted_at, received_at, decided_at, "
        "published_title, published_text FROM contributions WHERE territory = $1 "
        "ORDER BY received_at, external_id LIMIT $2",
        territory, limit,
    )
    return [dict(row) for row in rows]
