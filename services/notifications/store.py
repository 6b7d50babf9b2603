"""Notifications' SQL: partners, subscriptions, public events, feed items, deliveries, digests, open data."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.notifications.domain.public_events import TEXT_TYPES, PublicEvent
from shared.db import bulk_insert

# --- partners and subscriptions ----------------------------------------------------------------------


async def partner_for_key(pool: asyncpg.Pool, key_hash: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT id, name, email, territory FROM partners WHERE key_hash = $1", key_hash)
    return dict(row) if row else None


async def insert_partner(pool: asyncpg.Pool, *, id: str, name: str, email: str | None, territory: str | None,
                         key_hash: str, digest: str, digest_territories: list[str], digest_countries: list[str],
                         digest_axes: list[str]) -> bool:
    status = await pool.execute(
        """
        INSERT INTO partners (id, name, email, territory, key_hash, digest, digest_territories, digest_countries,
                              digest_axes, last_digest_at, last_digest_seq, digest_snapshot)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), (SELECT coalesce(max(seq), 0) FROM feed_items),
                pg_current_snapshot())
        ON CONFLICT (id) DO NOTHING
        """,
        id, name, email, territory, key_hash, digest, digest_territories, digest_countries, digest_axes,
    )
    return status.endswith(" 1")


async def set_partner_key(pool: asyncpg.Pool, partner_id: str, key_hash: str | None, *, actor: str,
                          action: str) -> bool:
    """A partner's new key hash (None revokes it), audited in the same transaction; False if no such partner."""
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute("UPDATE partners SET key_hash = $2 WHERE id = $1", partner_id, key_hash)
        if not status.endswith(" 1"):
            return False
        await conn.execute("INSERT INTO credential_events (actor, subject, action) VALUES ($1, $2, $3)",
                           actor, f"partner:{partner_id}", action)
    return True


async def credential_events(pool: asyncpg.Pool, limit: int) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT at, actor, subject, action FROM credential_events ORDER BY id DESC LIMIT $1",
                            limit)
    return [{**dict(row), "at": row["at"].isoformat()} for row in rows]


async def insert_subscription(pool: asyncpg.Pool, **values: Any) -> dict[str, Any]:
    row = await pool.fetchrow(
        """
        INSERT INTO subscriptions (id, partner, url, secret, territories, countries, axes, event_types,
                                   max_in_flight, max_rate_per_s)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *
        """,
        values["id"], values["partner"], values["url"], values["secret"], values["territories"],
        values["countries"], values["axes"], values["event_types"], values.get("max_in_flight"),
        values.get("max_rate_per_s"),
    )
    return dict(row)


async def set_limits(pool: asyncpg.Pool, subscription_id: str, *, max_in_flight: int | None,
                     max_rate_per_s: float | None) -> dict[str, Any]:
    row = await pool.fetchrow(
        "UPDATE subscriptions SET max_in_flight = $2, max_rate_per_s = $3 WHERE id::text = $1 RETURNING *",
        subscription_id, max_in_flight, max_rate_per_s,
    )
    return dict(row)


async def subscriptions_of(pool: asyncpg.Pool, partner: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT * FROM subscriptions WHERE partner = $1 ORDER BY created_at", partner)
    return [dict(row) for row in rows]


async def subscription_of(pool: asyncpg.Pool, partner: str, subscription_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT * FROM subscriptions WHERE partner = $1 AND id::text = $2",
                              partner, subscription_id)
    return dict(row) if row else None


async def rotate_secret(pool: asyncpg.Pool, subscription_id: str, new_secret: str, overlap_s: float) -> dict[str, Any]:
    """The new secret signs from now on; the current one keeps signing too for `overlap_s` seconds."""
    row = await pool.fetchrow(
        """
        UPDATE subscriptions SET previous_secret = secret, secret = $2,
            previous_secret_until = now() + make_interval(secs => $3)
        WHERE id::text = $1 RETURNING *
        """,
        subscription_id, new_secret, overlap_s,
    )
    return dict(row)


async def set_subscription_status(pool: asyncpg.Pool, subscription_id: str, status: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        """
        UPDATE subscriptions SET status = $2,
            disabled_reason = CASE WHEN $2 = 'active' THEN NULL ELSE 'disabled by the partner' END,
            disabled_at = CASE WHEN $2 = 'active' THEN NULL ELSE now() END, paused_until = NULL
        WHERE id::text = $1 RETURNING *
        """,
        subscription_id, status,
    )
    return dict(row)


# --- public events, feed items, fan-out --------------------------------------------------------------

MATCHES = """
    s.status = 'active'
    AND (cardinality(s.territories) = 0 OR e.territory = ANY(s.territories))
    AND (cardinality(s.countries) = 0 OR e.country::text = ANY(s.countries))
    AND (e.axis IS NULL OR cardinality(s.axes) = 0 OR e.axis = ANY(s.axes))
    AND CASE WHEN e.event_type = 'decision.taken'
             THEN e.event_type = ANY(s.event_types) AND p.territory IS NOT DISTINCT FROM e.territory
             ELSE cardinality(s.event_types) = 0 OR e.event_type = ANY(s.event_types) END
"""
"""When a public event `e` is owed to subscription `s` of partner `p`: its filters, and `decision.taken`
only when asked for explicitly, by the territory's own partner."""


async def insert_public_events(conn: asyncpg.Connection, events: Sequence[PublicEvent]) -> None:
    await bulk_insert(
        conn, "public_events",
        [("event_id", "text"), ("event_type", "text"), ("territory", "text"), ("country", "text"), ("axis", "text"),
         ("payload", "bytea"), ("occurred_at", "timestamptz"), ("contribution_id", "uuid")],
        [(e.event_id, e.event_type, e.territory, e.country, e.axis, e.payload, e.occurred_at, e.contribution_id)
         for e in events],
        suffix="ON CONFLICT (event_id) DO NOTHING",
    )


async def fan_out(conn: asyncpg.Connection, event_ids: Sequence[str]) -> int:
    """One delivery per (matching active subscription, event) for these public events."""
    if not event_ids:
        return 0
    status = await conn.execute(
        f"""
        INSERT INTO deliveries (id, subscription_id, event_id, event_type)
        SELECT gen_random_uuid(), s.id, e.event_id, e.event_type
        FROM public_events e JOIN subscriptions s ON true JOIN partners p ON p.id = s.partner
        WHERE e.event_id = ANY($1::text[]) AND {MATCHES}
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        list(event_ids),
    )
    return int(status.split()[-1])


async def fan_out_to_recipients(conn: asyncpg.Connection, events: Sequence[tuple[str, str]]) -> int:
    """For each (public event id, contribution id): one delivery to every active subscription that was sent
    a public event carrying the contribution's text (whatever its filters say now)."""
    if not events:
        return 0
    status = await conn.execute(
        """
        INSERT INTO deliveries (id, subscription_id, event_id, event_type)
        SELECT gen_random_uuid(), r.subscription_id, n.event_id, n.event_type
        FROM unnest($1::text[], $2::uuid[]) AS w(event_id, contribution_id)
        JOIN public_events n ON n.event_id = w.event_id
        JOIN LATERAL (SELECT DISTINCT d.subscription_id FROM public_events e
                      JOIN deliveries d ON d.event_id = e.event_id
                      WHERE e.contribution_id = w.contribution_id AND e.event_type = ANY($3::text[])) r ON true
        JOIN subscriptions s ON s.id = r.subscription_id AND s.status = 'active'
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        """,
        [e for e, _ in events], [c for _, c in events], list(TEXT_TYPES),
    )
    return int(status.split()[-1])


async def forget_texts(conn: asyncpg.Connection, contribution_ids: Sequence[str], *,
                       keep: Sequence[str] = ()) -> None:
    """Delete what holds these contributions' text but the public events `keep` (their new version): their
    feed items and the public events that carried it, so no replay sends it again; the deliveries of those
    still waiting are cancelled."""
    if not contribution_ids:
        return
    # one statement: its three parts see the same snapshot, so the deliveries cancelled are those of the
    # public events it deletes
    await conn.execute(
        """
        WITH cancelled AS (
            UPDATE deliveries d SET payload = NULL,
                status = CASE WHEN d.status = 'pending' THEN 'cancelled' ELSE d.status END,
                last_error = CASE WHEN d.status = 'pending' THEN 'withdrawn before delivery' ELSE d.last_error END
            FROM public_events e
            WHERE e.contribution_id = ANY($1::uuid[]) AND e.event_type = ANY($2::text[])
              AND NOT e.event_id = ANY($3::text[]) AND d.event_id = e.event_id
        ), forgotten AS (
            DELETE FROM public_events WHERE contribution_id = ANY($1::uuid[])
                AND event_type = ANY($2::text[]) AND NOT event_id = ANY($3::text[])
        )
        DELETE FROM feed_items WHERE contribution_id = ANY($1::uuid[])
        """,
        list(contribution_ids), list(TEXT_TYPES), list(keep),
    )


async def withdrawal(pool: asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    """When and by which decision a contribution that was public stopped being so (None if it never did)."""
    row = await pool.fetchrow(
        "SELECT decision_id, withdrawn_at, public, erased FROM contribution_decisions "
        "WHERE contribution_id = $1 AND withdrawn_at IS NOT NULL AND NOT public", contribution_id)
    return dict(row) if row else None


async def replay(pool: asyncpg.Pool, subscription_id: str, start: datetime, end: datetime) -> int:
    """Deliver again every matching public event that occurred in [start, end), under the same webhook-id
    (the event id) as the first time: a receiver that kept it can tell it has seen the event."""
    status = await pool.execute(
        f"""
        INSERT INTO deliveries (id, subscription_id, event_id, event_type)
        SELECT gen_random_uuid(), s.id, e.event_id, e.event_type
        FROM public_events e JOIN subscriptions s ON s.id::text = $1 JOIN partners p ON p.id = s.partner
        WHERE e.occurred_at >= $2 AND e.occurred_at < $3 AND {MATCHES}
        ON CONFLICT (subscription_id, event_id) DO UPDATE
            SET status = 'pending', attempts = 0, next_attempt_at = now(), replays = deliveries.replays + 1,
                delivered_at = NULL, last_error = NULL, last_status = NULL
            WHERE deliveries.status <> 'pending'
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        subscription_id, start, end,
    )
    return int(status.split()[-1])


FEED_COLUMNS = [
    ("event_id", "text"), ("event_type", "text"), ("contribution_id", "uuid"), ("territory", "text"),
    ("country", "bpchar"), ("axis", "text"), ("title", "text"), ("text", "text"), ("payload", "jsonb"),
    ("occurred_at", "timestamptz"),
]


@dataclass(frozen=True, slots=True)
class FeedItemRow:
    """A published contribution as the feeds show it (fields named after `FEED_COLUMNS`)."""

    event_id: str
    event_type: str
    contribution_id: str
    territory: str
    country: str
    axis: str | None
    title: str | None
    text: str
    payload: dict[str, Any]
    occurred_at: datetime


async def insert_feed_items(conn: asyncpg.Connection, rows: Sequence[FeedItemRow]) -> None:
    await bulk_insert(conn, "feed_items", FEED_COLUMNS, rows, suffix="ON CONFLICT (event_id) DO NOTHING")


FEED_SELECT = (
    "SELECT f.seq, f.event_id, f.contribution_id, f.territory, f.country, "
    "CASE WHEN p.contribution_id IS NULL THEN f.axis ELSE p.axis END AS axis, p.framework, f.title, f.text, "
    "f.occurred_at, f.payload->'data'->>'kind' AS kind, f.payload->'data'->>'consultation' AS consultation "
    "FROM feed_items f LEFT JOIN axis_placements p ON p.contribution_id = f.contribution_id"
)
"""A feed item with the framework and axis synthesis placed it on (until then, no framework and the axis
its source gave)."""

FEED_FILTERS = {"network": [], "countries": ["f.country = $"], "territories": ["f.territory = $"],
                "frameworks": ["p.framework = $"], "framework-axes": ["p.framework = $", "p.axis = $"],
                "framework-unclassified": ["p.framework = $", "p.axis IS NULL"]}
"""Each scope's conditions; a trailing `$` takes the next key."""


async def feed_page(pool: asyncpg.Pool, scope: str, keys: Sequence[str], *, before: int | None,
                    limit: int) -> list[dict[str, Any]]:
    """The newest published items of a scope, by descending seq: the network, a country, a territory, a
    framework, or (`framework-axes`, keys = framework, axis) the items synthesis placed on an axis of a
    framework, or on none of its axes (`framework-unclassified`)."""
    where = ["f.event_type = 'contribution.published'"]
    args: list[Any] = [limit]
    given = iter(keys)
    for condition in FEED_FILTERS[scope]:
        if condition.endswith("$"):
            args.append(next(given))
            condition += str(len(args))
        where.append(condition)
    if before is not None:
        args.append(before)
        where.append(f"f.seq < ${len(args)}")
    sql = f"{FEED_SELECT} WHERE {' AND '.join(where)} ORDER BY f.seq DESC LIMIT $1"  # nosec B608 # constant SQL fragments
    rows = await pool.fetch(sql, *args)
    return [dict(row) for row in rows]


async def feed_item(pool: asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    sql = f"{FEED_SELECT} WHERE f.contribution_id = $1 ORDER BY f.seq DESC LIMIT 1"  # nosec B608 # constant SQL
    row = await pool.fetchrow(sql, contribution_id)
    return dict(row) if row else None


async def place_axes(conn: asyncpg.Connection, rows: Sequence[tuple[str, str, str | None, str, Any]]) -> None:
    """(contribution id, framework, axis, axis source, placed at): where synthesis placed each contribution;
    a placement older than the one kept is left out (events may arrive out of order)."""
    latest: dict[str, tuple] = {}
    for row in rows:
        if row[0] not in latest or latest[row[0]][4] <= row[4]:
            latest[row[0]] = row
    await bulk_insert(
        conn, "axis_placements",
        [("contribution_id", "uuid"), ("framework", "text"), ("axis", "text"), ("axis_source", "text"),
         ("placed_at", "timestamptz")], list(latest.values()),
        suffix="ON CONFLICT (contribution_id) DO UPDATE SET framework = EXCLUDED.framework, axis = EXCLUDED.axis, "
               "axis_source = EXCLUDED.axis_source, placed_at = EXCLUDED.placed_at "
               "WHERE axis_placements.placed_at <= EXCLUDED.placed_at",
    )


async def upsert_consultation_frameworks(conn: asyncpg.Connection, rows: Sequence[tuple[str, str, list[str]]]) -> None:
    """(consultation, framework id, its axes' ids). Consultations open seldom: one statement each."""
    await conn.executemany(
        "INSERT INTO consultation_frameworks (consultation, framework, axes) VALUES ($1, $2, $3) "
        "ON CONFLICT (consultation) DO UPDATE SET framework = EXCLUDED.framework, axes = EXCLUDED.axes", rows)


async def framework_axes(pool: asyncpg.Pool, framework: str) -> set[str] | None:
    """The axes a framework has had in the network's consultations (and those synthesis placed contributions
    on); None for a framework no consultation uses."""
    row = await pool.fetchrow(
        "SELECT array(SELECT DISTINCT unnest(axes) FROM consultation_frameworks WHERE framework = $1) AS axes, "
        "EXISTS (SELECT 1 FROM consultation_frameworks WHERE framework = $1) "
        "OR EXISTS (SELECT 1 FROM axis_placements WHERE framework = $1) AS known", framework)
    if not row["known"]:
        return None
    placed = await pool.fetch("SELECT DISTINCT axis FROM axis_placements WHERE framework = $1 AND axis IS NOT NULL",
                              framework)
    return set(row["axes"]) | {r["axis"] for r in placed}


# --- deliveries --------------------------------------------------------------------------------------


async def claim_due_deliveries(pool: asyncpg.Pool, limit: int, *, per_subscription: int, busy: Sequence[str],
                               held: Sequence[Any], lease_s: float) -> list[dict[str, Any]]:
    """Take due deliveries for `lease_s` seconds (a worker that dies leaves them due again afterwards).

    At most a subscription's `max_in_flight` (else `per_subscription`) per subscription, none of the `busy`
    ones (already at their limit in this worker) nor of paused ones (a 429 / Retry-After): one slow
    endpoint cannot fill the batch. None of the `held` ones either: this worker has them already.
    """
    rows = await pool.fetch(
        """
        WITH candidates AS (
            SELECT d.id, d.subscription_id, d.next_attempt_at,
                   coalesce(s.max_in_flight, $3) AS max_in_flight FROM deliveries d
            JOIN subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= now()
              AND (s.paused_until IS NULL OR s.paused_until <= now())
              AND NOT (d.subscription_id::text = ANY($4::text[])) AND NOT (d.id = ANY($5::uuid[]))
            ORDER BY d.next_attempt_at LIMIT $1 * 4
            FOR UPDATE OF d SKIP LOCKED
        ), chosen AS (
            SELECT id FROM (
                SELECT id, next_attempt_at, max_in_flight,
                       row_number() OVER (PARTITION BY subscription_id ORDER BY next_attempt_at) AS rank
                FROM candidates) ranked
            WHERE rank <= max_in_flight ORDER BY next_attempt_at LIMIT $1
        )
        UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
        FROM subscriptions s
        WHERE d.id IN (SELECT id FROM chosen) AND s.id = d.subscription_id
        RETURNING d.id, d.subscription_id, d.event_id, d.event_type,
                  coalesce(d.payload, (SELECT e.payload FROM public_events e WHERE e.event_id = d.event_id))
                      AS payload,
                  d.attempts, s.url, s.secret, s.previous_secret, s.previous_secret_until,
                  s.status AS subscription_status, s.max_in_flight, s.max_rate_per_s
        """,
        limit, lease_s, per_subscription, list(busy), list(held),
    )
    return [dict(row) for row in rows]


async def extend_leases(pool: asyncpg.Pool, held: Sequence[Any], lease_s: float) -> None:
    """Renew the lease of deliveries still in this worker's hands (waiting for their turn, in flight or
    not yet recorded), so that no other worker sends them meanwhile; a worker that dies stops renewing."""
    await pool.execute(
        "UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $2) "
        "WHERE id = ANY($1::uuid[]) AND status = 'pending'",
        list(held), lease_s,
    )


_RECORD_ATTEMPTS = """
    WITH u AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::float8[], $6::int4[],
                             $7::int4[]) AS u(id, status, code, error, retry_in_s, counted, latency_ms)
    ), attempts AS (
        INSERT INTO delivery_attempts (delivery_id, status_code, latency_ms, error)
        SELECT id, code, latency_ms, error FROM u WHERE counted = 1
    ), recorded AS (
        UPDATE deliveries d SET attempts = d.attempts + u.counted, status = u.status, last_status = u.code,
            last_error = u.error, next_attempt_at = now() + make_interval(secs => u.retry_in_s),
            delivered_at = CASE WHEN u.status = 'delivered' THEN now() ELSE NULL END
        FROM u WHERE d.id = u.id AND d.status <> 'cancelled'
    ), released AS (
        UPDATE deliveries SET next_attempt_at = created_at
        WHERE subscription_id = ANY($8::uuid[]) AND status = 'pending' AND NOT (id = ANY($1::uuid[]))
          AND next_attempt_at > now() + make_interval(secs => $9)
        RETURNING id
    )
    SELECT (SELECT count(*) FROM released) AS released
"""


@dataclass
class Recorded:
    """What recording a batch of attempts changed beyond the attempts themselves."""

    released: int  # deliveries waiting for a retry made due now, their endpoint having answered 2xx
    disabled: list[dict[str, Any]]  # subscriptions disabled: id, partner, url, reason, partner's name, e-mail


async def record_attempts(pool: asyncpg.Pool, results: Sequence[dict[str, Any]],
                          notice: Callable[[dict[str, Any]], tuple[str, str]], lease_s: float) -> Recorded:
    """Log the attempts and their outcome (one statement, which also releases, oldest first, the deliveries
    that wait for a retry to an endpoint that answered 2xx again: each becomes due at its creation time;
    leased ones, due again within `lease_s` and so in flight somewhere, are left alone). Pause and disable
    subscriptions as told, and queue an e-mail to the partner of each subscription disabled."""
    pauses: dict[Any, float] = {}
    for r in results:
        if r.get("pause_s"):
            pauses[r["subscription_id"]] = max(pauses.get(r["subscription_id"], 0.0), r["pause_s"])
    disabling = {r["subscription_id"]: r["disable_reason"] for r in results if r.get("disable_reason")}
    arguments = (
        [r["id"] for r in results], [r["status"] for r in results], [r["status_code"] for r in results],
        [r["error"] for r in results], [float(r["retry_in_s"] or 0.0) for r in results],
        [0 if r["status"] == "cancelled" else 1 for r in results], [r["latency_ms"] for r in results],
        list({r["subscription_id"] for r in results if r["status"] == "delivered"}), lease_s,
    )
    if not pauses and not disabling:  # the usual case: one statement, atomic on its own
        return Recorded(await pool.fetchval(_RECORD_ATTEMPTS, *arguments), [])
    async with pool.acquire() as conn, conn.transaction():
        released = await conn.fetchval(_RECORD_ATTEMPTS, *arguments)
        for subscription_id, pause_s in pauses.items():
            await conn.execute(
                "UPDATE subscriptions SET paused_until = now() + make_interval(secs => $2) WHERE id = $1",
                subscription_id, pause_s,
            )
        disabled = []
        for subscription_id, reason in disabling.items():
            row = await conn.fetchrow(
                """
                UPDATE subscriptions s SET status = 'disabled', disabled_reason = $2, disabled_at = now()
                FROM partners p WHERE s.id = $1 AND s.status = 'active' AND p.id = s.partner
                RETURNING s.id, s.partner, s.url, s.disabled_reason, p.name AS partner_name, p.email
                """,
                subscription_id, reason,
            )
            if row:
                disabled.append(dict(row))
                await conn.execute(
                    "UPDATE deliveries SET status = 'cancelled', last_error = 'subscription disabled' "
                    "WHERE subscription_id = $1 AND status = 'pending'", subscription_id)
                if row["email"]:
                    subject, body = notice(dict(row))
                    await add_notice(conn, row["partner"], subject, body)
        return Recorded(released, disabled)


async def deliveries_of(pool: asyncpg.Pool, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """
        SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.replays, d.last_status, d.last_error,
               d.created_at, d.delivered_at, d.next_attempt_at,
               coalesce((SELECT json_agg(json_build_object(
                             'at', a.attempted_at, 'status_code', a.status_code, 'latency_ms', a.latency_ms,
                             'error', a.error) ORDER BY a.id)
                         FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS attempt_log
        FROM deliveries d WHERE d.subscription_id::text = $1 ORDER BY d.created_at DESC, d.event_id LIMIT $2
        """,
        subscription_id, limit,
    )
    return [dict(row) for row in rows]


async def delivery_counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


# --- e-mail: notices and digests --------------------------------------------------------------------


async def add_notice(conn: asyncpg.Connection | asyncpg.Pool, partner: str, subject: str, body: str) -> None:
    await conn.execute("INSERT INTO partner_notices (partner, subject, body) VALUES ($1, $2, $3)",
                       partner, subject, body)


async def partner(pool: asyncpg.Pool, partner_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow("SELECT * FROM partners WHERE id = $1", partner_id)
    return dict(row) if row else None


DIGEST_NOT_YET_SEEN = """
    (f.inserted_xid IS NULL AND f.seq > $1)
    OR ($2::text::pg_snapshot IS NULL AND f.inserted_xid IS NOT NULL)
    OR (f.inserted_xid >= pg_snapshot_xmin($2::text::pg_snapshot) AND NOT pg_visible_in_snapshot(f.inserted_xid, $2::text::pg_snapshot))
"""
"""Feed items the partner's previous digest could not see: inserted by a transaction its snapshot ($2) did
not see committed, whatever their seq (two replicas commit out of seq order). Rows from before the snapshot
cursor have no `inserted_xid` and are read by the seq cursor ($1) they had."""


async def claim_digest(pool: asyncpg.Pool, partner_id: str, period_s: float | None) -> dict[str, Any] | None:
    """Take the partner's digest (when due, unless `period_s` is None) and the feed items it covers, and
    move its cursor to this moment's snapshot, in one committed transaction before anything is sent: two
    replicas never take the same items, and a crash while sending does not send them again. None when
    the digest is not due or another replica is taking it."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        snapshot = await conn.fetchval("SELECT pg_current_snapshot()::text")  # the transaction's own
        partner = await conn.fetchrow(
            """
            SELECT *, digest_snapshot::text AS previous_snapshot FROM partners
            WHERE id = $1 AND email IS NOT NULL
              AND ($2::float8 IS NULL OR (digest <> 'none' AND (
                   last_digest_at IS NULL OR last_digest_at <= now() - make_interval(secs => $2))))
            FOR UPDATE SKIP LOCKED
            """,
            partner_id, period_s,
        )
        if partner is None:
            return None
        partner = dict(partner)
        rows = await conn.fetch(
            f"""
            SELECT f.seq, f.contribution_id, f.territory, f.country, f.axis, f.title, f.text, f.occurred_at
            FROM feed_items f
            WHERE f.event_type = 'contribution.published' AND ({DIGEST_NOT_YET_SEEN})
              AND (cardinality($3::text[]) = 0 OR f.territory = ANY($3::text[]))
              AND (cardinality($4::text[]) = 0 OR f.country::text = ANY($4::text[]))
              AND (cardinality($5::text[]) = 0 OR f.axis = ANY($5::text[]))
            ORDER BY f.seq
            """,  # nosec B608 # a constant SQL fragment; values are bind parameters
            partner["last_digest_seq"], partner["previous_snapshot"], partner["digest_territories"],
            partner["digest_countries"], partner["digest_axes"],
        )
        items = [dict(row) for row in rows]
        digest_id = None
        if items:
            digest_id = await conn.fetchval(
                "INSERT INTO digests (partner, from_seq, to_seq, items, status) VALUES ($1, $2, $3, $4, 'sending') "
                "RETURNING id", partner_id, items[0]["seq"], items[-1]["seq"], len(items))
        await conn.execute(
            """
            UPDATE partners SET last_digest_at = now(), digest_snapshot = $2::text::pg_snapshot,
                last_digest_seq = (SELECT coalesce(max(seq), 0) FROM feed_items WHERE inserted_xid IS NULL)
            WHERE id = $1
            """,
            partner_id, snapshot,
        )
    return {"partner": partner, "items": items, "digest_id": digest_id, "snapshot": snapshot}


async def digest_sent(pool: asyncpg.Pool, digest_id: int) -> None:
    await pool.execute("UPDATE digests SET status = 'sent', sent_at = now() WHERE id = $1", digest_id)


async def digest_not_sent(pool: asyncpg.Pool, claimed: dict[str, Any]) -> None:
    """The SMTP server refused the digest: its items go back to the partner's next digest."""
    partner = claimed["partner"]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE digests SET status = 'failed' WHERE id = $1", claimed["digest_id"])
        await conn.execute(
            "UPDATE partners SET digest_snapshot = $2::text::pg_snapshot, last_digest_at = $3 "
            "WHERE id = $1 AND digest_snapshot::text = $4",
            partner["id"], partner["previous_snapshot"], partner["last_digest_at"], claimed["snapshot"])


async def claim_notice(pool: asyncpg.Pool, max_attempts: int, tried: Sequence[int]) -> dict[str, Any] | None:
    """Take the oldest notice to send, committed before it is sent: a crash while it is sent leaves it
    claimed, never sent twice."""
    row = await pool.fetchrow(
        """
        UPDATE partner_notices n SET claimed_at = now(), attempts = n.attempts + 1
        FROM partners p
        WHERE n.id = (SELECT n2.id FROM partner_notices n2 JOIN partners p2 ON p2.id = n2.partner
                      WHERE n2.sent_at IS NULL AND n2.claimed_at IS NULL AND n2.attempts < $1
                        AND p2.email IS NOT NULL AND NOT (n2.id = ANY($2::bigint[]))
                      ORDER BY n2.id LIMIT 1 FOR UPDATE OF n2 SKIP LOCKED)
          AND p.id = n.partner
        RETURNING n.id, n.subject, n.body, p.id AS partner, p.name, p.email
        """,
        max_attempts, list(tried),
    )
    return dict(row) if row else None


async def notice_sent(pool: asyncpg.Pool, notice_id: int) -> None:
    await pool.execute("UPDATE partner_notices SET sent_at = now() WHERE id = $1", notice_id)


async def notice_not_sent(pool: asyncpg.Pool, notice_id: int, error: str) -> None:
    """The SMTP server refused it: tried again at the next round."""
    await pool.execute("UPDATE partner_notices SET claimed_at = NULL, last_error = $2 WHERE id = $1",
                       notice_id, error[:500])


# --- open data --------------------------------------------------------------------------------------


async def scope_known(pool: asyncpg.Pool, scope: str, key: str) -> bool:
    """Whether a territory (or a country) is registered in the network, or has published contributions or
    synthesis versions."""
    column = {"territory": ("id", "territory"), "country": ("country", "country")}[scope]
    return await pool.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM territories WHERE {column[0]} = $1) "  # nosec B608 # constant column names
        f"OR EXISTS (SELECT 1 FROM feed_items WHERE {column[1]} = $1) "
        "OR EXISTS (SELECT 1 FROM syntheses WHERE scope = $2 AND key = $1)", key, scope)


async def upsert_territories(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    """(id, name, country, kind, licence): the latest registration wins."""
    await bulk_insert(
        conn, "territories",
        [("id", "text"), ("name", "text"), ("country", "text"), ("kind", "text"), ("licence", "text")], rows,
        suffix="ON CONFLICT (id) DO UPDATE SET name = excluded.name, country = excluded.country, "
               "kind = excluded.kind, licence = excluded.licence",
    )


@dataclass(frozen=True, slots=True)
class SynthesisVersionRow:
    """A synthesis version announced by synthesis, for the open data (the document stays synthesis's)."""

    scope: str
    key: str
    country: str | None
    version: int
    contributions_count: int
    computed_at: datetime
    event_id: str


async def insert_syntheses(conn: asyncpg.Connection, rows: Sequence[SynthesisVersionRow]) -> None:
    await bulk_insert(
        conn, "syntheses",
        [("scope", "text"), ("key", "text"), ("country", "text"), ("version", "int4"),
         ("contributions_count", "int4"), ("computed_at", "timestamptz"), ("event_id", "text")], rows,
        suffix="ON CONFLICT (scope, key, version) DO NOTHING",
    )


async def licences(pool: asyncpg.Pool) -> dict[str, str]:
    return {row["id"]: row["licence"] for row in await pool.fetch("SELECT id, licence FROM territories")}


def open_contributions_query(scope: str) -> str:
    """Published contributions of a scope, oldest first: the published text, never author data."""
    where = {"network": "true", "country": "f.country::text = $1", "territory": "f.territory = $1"}[scope]
    return f"""
        SELECT f.contribution_id, f.territory, f.country, f.payload->'data'->>'consultation' AS consultation,
               f.axis, f.payload->'data'->>'kind' AS kind, f.payload->'data'->>'channel' AS channel,
               f.payload->'data'->>'language' AS language, f.title, f.text, f.occurred_at AS published_at,
               t.licence
        FROM feed_items f LEFT JOIN territories t ON t.id = f.territory
        WHERE f.event_type = 'contribution.published' AND {where}
        ORDER BY f.seq
    """  # nosec B608 # constant SQL fragments; values are bind parameters


async def synthesis_versions(pool: asyncpg.Pool, scope: str, key: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT scope, key, country, version, contributions_count, computed_at FROM syntheses "
        "WHERE scope = $1 AND key = $2 ORDER BY version", scope, key)
    return [dict(row) for row in rows]
