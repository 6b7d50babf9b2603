"""Notifications' SQL: partners, subscriptions, feed items, deliveries."""

from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db import bulk_insert

SUBSCRIPTION_FIELDS = ("id", "partner", "url", "territories", "countries", "axes", "event_types", "status",
                       "disabled_reason", "created_at")


async def partner_for_key(pool: asyncpg.Pool, key_hash: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT id, name, email FROM partners WHERE key_hash = $1", key_hash)
    return dict(row) if row else None


async def insert_partner(pool: asyncpg.Pool, partner_id: str, name: str, email: str | None, key_hash: str) -> bool:
    status = await pool.execute(
        "INSERT INTO partners (id, name, email, key_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        partner_id, name, email, key_hash,
    )
    return status.endswith(" 1")


async def insert_subscription(pool: asyncpg.Pool, **values: Any) -> dict[str, Any]:
    row = await pool.fetchrow(
        """
        INSERT INTO subscriptions (id, partner, url, secret, territories, countries, axes, event_types)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
        """,
        values["id"], values["partner"], values["url"], values["secret"], values["territories"],
        values["countries"], values["axes"], values["event_types"],
    )
    return dict(row)


async def subscriptions_of(pool: asyncpg.Pool, partner: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT * FROM subscriptions WHERE partner = $1 ORDER BY created_at", partner)
    return [dict(row) for row in rows]


FEED_COLUMNS = [
    ("event_id", "text"), ("event_type", "text"), ("contribution_id", "uuid"), ("territory", "text"),
    ("country", "bpchar"), ("axis", "text"), ("title", "text"), ("text", "text"), ("payload", "jsonb"),
    ("occurred_at", "timestamptz"),
]


async def insert_feed_items(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    """(event_id, event_type, contribution_id, territory, country, axis, title, text, payload, occurred_at)."""
    await bulk_insert(conn, "feed_items", FEED_COLUMNS, rows, suffix="ON CONFLICT (event_id) DO NOTHING")


async def fan_out(conn: asyncpg.Connection, rows: Sequence[tuple]) -> int:
    """One delivery per (matching active subscription, event); (event_id, type, territory, country, axis, payload)."""
    if not rows:
        return 0
    columns = [list(c) for c in zip(*rows, strict=True)]
    status = await conn.execute(
        """
        INSERT INTO deliveries (id, subscription_id, event_id, event_type, payload)
        SELECT gen_random_uuid(), s.id, e.event_id, e.event_type, e.payload
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])
             AS e(event_id, event_type, territory, country, axis, payload)
        JOIN subscriptions s ON s.status = 'active'
            AND (cardinality(s.territories) = 0 OR e.territory = ANY(s.territories))
            AND (cardinality(s.countries) = 0 OR e.country = ANY(s.countries))
            AND (cardinality(s.axes) = 0 OR e.axis = ANY(s.axes))
            AND (cardinality(s.event_types) = 0 OR e.event_type = ANY(s.event_types))
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        """,
        *columns,
    )
    return int(status.split()[-1])


async def claim_due_deliveries(pool: asyncpg.Pool, limit: int, lease_s: int = 120) -> list[dict[str, Any]]:
    """Take due deliveries for `lease_s` seconds; a worker that dies leaves them due again afterwards."""
    rows = await pool.fetch(
        """
        UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
        FROM subscriptions s
        WHERE d.id IN (
            SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
        ) AND s.id = d.subscription_id
        RETURNING d.id, d.subscription_id, d.event_id, d.event_type, d.payload, d.attempts, s.url, s.secret,
                  s.previous_secret, s.previous_secret_until, s.status AS subscription_status
        """,
        limit, lease_s,
    )
    return [dict(row) for row in rows]


async def record_attempts(pool: asyncpg.Pool, results: Sequence[dict[str, Any]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO delivery_attempts (delivery_id, status_code, latency_ms, error) VALUES ($1, $2, $3, $4)",
            [(r["id"], r["status_code"], r["latency_ms"], r["error"]) for r in results],
        )
        await conn.executemany(
            """
            UPDATE deliveries SET attempts = attempts + 1, status = $2, last_status = $3, last_error = $4,
                next_attempt_at = now() + make_interval(secs => $5),
                delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE NULL END
            WHERE id = $1
            """,
            [(r["id"], r["status"], r["status_code"], r["error"], r["retry_in_s"] or 0.0) for r in results],
        )
        for subscription_id, reason in {r["subscription_id"]: r["disable_reason"] for r in results
                                        if r.get("disable_reason")}.items():
            await conn.execute(
                "UPDATE subscriptions SET status = 'disabled', disabled_reason = $2 WHERE id = $1",
                subscription_id, reason,
            )


async def deliveries_of(pool: asyncpg.Pool, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """
        SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.last_status, d.last_error, d.created_at,
               d.delivered_at,
               (SELECT latency_ms FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1)
                   AS last_latency_ms
        FROM deliveries d WHERE d.subscription_id = $1 ORDER BY d.created_at DESC LIMIT $2
        """,
        subscription_id, limit,
    )
    return [dict(row) for row in rows]
