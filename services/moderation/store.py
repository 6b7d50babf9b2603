"""Moderation's SQL."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Insert, bulk_insert, insert_together
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


async def batch_context(conn: asyncpg.Connection, contribution_ids: Sequence[str], territory_ids: Sequence[str],
                        consultation_ids: Sequence[str]) -> tuple[set[str], dict[str, dict[str, Any]], dict[str, dict],
                                                                  datetime]:
    """What a batch of new contributions is checked against, read in one statement: those erased already,
    their territories (as `territories` gives them), their consultations' frameworks, and the transaction's
    `now()`."""
    row = await conn.fetchrow(
        """
        SELECT now() AS now,
               ARRAY(SELECT contribution_id::text FROM erasures WHERE contribution_id = ANY($1::uuid[])) AS erased,
               (SELECT coalesce(jsonb_object_agg(t.id, to_jsonb(t)), '{}') FROM territories t
                WHERE t.id = ANY($2::text[])) AS territories,
               (SELECT coalesce(jsonb_object_agg(c.id, c.framework), '{}') FROM consultations c
                WHERE c.id = ANY($3::text[])) AS frameworks
        """,
        list(contribution_ids), list(territory_ids), list(consultation_ids),
    )
    return set(row["erased"]), row["territories"], row["frameworks"], row["now"]


async def recent_signatures(conn: asyncpg.Connection, territories: Sequence[str], *, since: datetime,
                            limit: int) -> list[asyncpg.Record]:
    """The newest `limit` flooding signatures of each territory received after `since`, newest first."""
    return await conn.fetch(
        """
        SELECT t.id AS territory, s.id, s.received_at, s.signature FROM unnest($1::text[]) AS t(id)
        CROSS JOIN LATERAL (
            SELECT id, received_at, signature FROM contributions
            WHERE territory = t.id AND signature IS NOT NULL AND received_at > $2
            ORDER BY received_at DESC LIMIT $3
        ) s
        ORDER BY s.received_at DESC
        """,
        list(territories), since, limit,
    )


async def signatures_received_since(conn: asyncpg.Connection, territories: Sequence[str],
                                    since: datetime) -> list[asyncpg.Record]:
    """The flooding signatures of these territories received after `since`, oldest first."""
    return await conn.fetch(
        "SELECT territory, id, received_at, signature FROM contributions "
        "WHERE territory = ANY($1::text[]) AND signature IS NOT NULL AND received_at > $2 ORDER BY received_at",
        list(territories), since,
    )


@dataclass(frozen=True, slots=True)
class ContributionRow:
    """A submitted contribution as moderation keeps it, with what the checks found and the status decided."""

    id: str
    external_id: str
    territory: str
    country: str
    consultation: str
    axis: str | None
    kind: str | None
    author_role: str | None
    channel: str | None
    language: str
    title: str | None
    body: str
    submitted_at: datetime
    flags: list[dict[str, Any]]
    redacted_title: str | None
    redacted_body: str | None
    redacted_spans: list[dict[str, Any]]
    signature: int | None
    status: str
    decided_at: datetime | None
    question: str | None


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One decision of the audit log (`decision` is the whole decision, statement of reasons included)."""

    id: str
    contribution_id: str
    outcome: str
    grounds: list[str]
    automated: bool
    decided_by: str
    decided_at: datetime
    decision: dict[str, Any]


CONTRIBUTION_COLUMNS = [
    ("id", "uuid"), ("external_id", "text"), ("territory", "text"), ("country", "bpchar"),
    ("consultation", "text"), ("axis", "text"), ("kind", "text"), ("author_role", "text"), ("channel", "text"),
    ("language", "text"), ("title", "text"), ("body", "text"), ("submitted_at", "timestamptz"),
    ("flags", "jsonb"), ("redacted_title", "text"), ("redacted_body", "text"), ("redacted_spans", "jsonb"),
    ("signature", "int8"), ("status", "text"), ("decided_at", "timestamptz"), ("question", "text"),
]
DECISION_COLUMNS = [
    ("id", "uuid"), ("contribution_id", "uuid"), ("outcome", "text"), ("grounds", "jsonb"), ("automated", "bool"),
    ("decided_by", "text"), ("decided_at", "timestamptz"), ("decision", "jsonb"),
]


def contributions_insert(rows: Sequence[ContributionRow]) -> Insert:
    return Insert("contributions", CONTRIBUTION_COLUMNS, rows, suffix="ON CONFLICT (id) DO NOTHING")


def decisions_insert(rows: Sequence[DecisionRow]) -> Insert:
    return Insert("decisions", DECISION_COLUMNS, rows, suffix="ON CONFLICT (id) DO NOTHING")


async def insert_decided(conn: asyncpg.Connection, contributions: Sequence[ContributionRow],
                         decisions: Sequence[DecisionRow], outbox: Insert) -> None:
    """New contributions, their decisions and the events announcing them, in one statement."""
    await insert_together(conn, contributions_insert(contributions), decisions_insert(decisions), outbox)


async def insert_decisions(conn: asyncpg.Connection, rows: Sequence[DecisionRow]) -> None:
    await insert_together(conn, decisions_insert(rows))


async def erase(conn: asyncpg.Connection, erasures: Sequence[tuple[str, str, Any]]) -> None:
    """(contribution id, erasure id, erased at): the texts go (submitted, redacted), the decisions stay."""
    if not erasures:
        return
    await bulk_insert(conn, "erasures", [("contribution_id", "uuid"), ("erasure_id", "text"), ("erased_at", "timestamptz")],
                      erasures, suffix="ON CONFLICT (contribution_id) DO NOTHING")
    await conn.execute(
        "UPDATE contributions SET body = '', title = NULL, redacted_title = NULL, redacted_body = NULL, "
        "status = 'erased' WHERE id = ANY($1::uuid[])", [e[0] for e in erasures])


async def get_contribution(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM contributions WHERE id = $1", contribution_id)
    return dict(row) if row else None


async def decisions_of(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM decisions WHERE contribution_id = $1 ORDER BY decided_at", contribution_id
    )
    return [dict(row) for row in rows]


async def latest_decision(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT * FROM decisions WHERE contribution_id = $1 ORDER BY decided_at DESC LIMIT 1", contribution_id
    )
    return dict(row) if row else None


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


# --- the moderators' UI ---------------------------------------------------------------------------

QUEUE_CONDITIONS = {
    "pending": "c.status = 'held'",
    "reported": "c.status IN ('published', 'published-redacted') AND c.flags <> '[]'::jsonb AND c.reviewed_at IS NULL",
    "appeals": "c.status = 'appealed'",
}
AGE_CONDITIONS = {
    "lt1h": "c.received_at > now() - interval '1 hour'",
    "lt24h": "c.received_at > now() - interval '24 hours'",
    "gt24h": "c.received_at <= now() - interval '24 hours'",
    "gt7d": "c.received_at <= now() - interval '7 days'",
}


def _filters(territory: str | None, ground: str | None, age: str | None, args: list[Any]) -> list[str]:
    """SQL conditions for the queue filters; values go to `args` (never into the SQL text)."""
    conditions = []
    if territory:
        args.append(territory)
        conditions.append(f"c.territory = ${len(args)}")
    if ground:
        args.append(ground)
        conditions.append(f"c.flags @> jsonb_build_array(jsonb_build_object('ground', ${len(args)}::text))")
    if age:
        conditions.append(AGE_CONDITIONS[age])
    return conditions


async def queue_counts(conn: asyncpg.Connection | asyncpg.Pool, *, territory: str | None, ground: str | None,
                       age: str | None) -> dict[str, int]:
    args: list[Any] = []
    where = " AND ".join(_filters(territory, ground, age, args)) or "true"
    counts = ", ".join(f"count(*) FILTER (WHERE {condition}) AS \"{name}\"" for name, condition in QUEUE_CONDITIONS.items())
    row = await conn.fetchrow(f"SELECT {counts} FROM contributions c WHERE {where}", *args)  # nosec B608 # constant SQL fragments; values are bind parameters
    return dict(row)


async def queue_items(conn: asyncpg.Connection | asyncpg.Pool, queue: str, *, territory: str | None,
                      ground: str | None, age: str | None, limit: int = 50,
                      after: tuple[Any, str] | None = None) -> list[dict[str, Any]]:
    """The oldest first; `after` = (received_at, id) of the item to start after."""
    args: list[Any] = []
    conditions = [QUEUE_CONDITIONS[queue], *_filters(territory, ground, age, args)]
    if after is not None:
        args.extend(after)
        conditions.append(f"(c.received_at, c.id) > (${len(args) - 1}, ${len(args)}::uuid)")
    args.append(limit)
    rows = await conn.fetch(
        f"""
        SELECT c.*, a.reason AS appeal_reason, a.filed_by AS appeal_filed_by, a.filed_at AS appeal_filed_at
        FROM contributions c
        LEFT JOIN appeals a ON a.contribution_id = c.id AND a.resolved_at IS NULL
        WHERE {' AND '.join(conditions)}
        ORDER BY c.received_at, c.id LIMIT ${len(args)}
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        *args,
    )
    return [dict(row) for row in rows]


async def mark_reviewed(conn: asyncpg.Connection, contribution_id: str, by: str, at) -> None:
    await conn.execute("UPDATE contributions SET reviewed_by = $2, reviewed_at = $3 WHERE id = $1",
                       contribution_id, by, at)


async def appeals_of(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM appeals WHERE contribution_id = $1 ORDER BY filed_at", contribution_id)
    return [dict(row) for row in rows]


async def decision_log(conn: asyncpg.Connection | asyncpg.Pool, *, territory: str | None, people_only: bool,
                       limit: int = 100, before=None) -> list[dict[str, Any]]:
    args: list[Any] = []
    conditions = []
    if territory:
        args.append(territory)
        conditions.append(f"c.territory = ${len(args)}")
    if people_only:
        conditions.append("NOT d.automated")
    if before is not None:
        args.append(before)
        conditions.append(f"d.decided_at < ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"""
        SELECT d.id, d.contribution_id, d.outcome, d.grounds, d.automated, d.decided_by, d.decided_at,
               d.decision->>'facts' AS facts, c.territory, c.external_id
        FROM decisions d JOIN contributions c ON c.id = d.contribution_id
        WHERE {' AND '.join(conditions) or 'true'}
        ORDER BY d.decided_at DESC LIMIT ${len(args)}
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        *args,
    )
    return [dict(row) for row in rows]


async def dashboard(conn: asyncpg.Connection | asyncpg.Pool, *, territory: str | None) -> dict[str, Any]:
    """Backlog by territory and queue, the oldest waiting, and the median time to a person's decision
    (from reception to the first human decision, over the last 30 days)."""
    args: list[Any] = [territory] if territory else []
    scope = "c.territory = $1" if territory else "true"
    backlog = await conn.fetch(
        f"""
        SELECT c.territory,
               count(*) FILTER (WHERE {QUEUE_CONDITIONS['pending']}) AS pending,
               count(*) FILTER (WHERE {QUEUE_CONDITIONS['reported']}) AS reported,
               count(*) FILTER (WHERE {QUEUE_CONDITIONS['appeals']}) AS appeals,
               min(c.received_at) FILTER (WHERE {QUEUE_CONDITIONS['pending']}) AS oldest_pending
        FROM contributions c WHERE {scope} AND (c.status IN ('held', 'appealed')
            OR ({QUEUE_CONDITIONS['reported']}))
        GROUP BY c.territory ORDER BY c.territory
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        *args,
    )
    timing = await conn.fetchrow(
        f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first.decided_at - c.received_at))
                   AS median_seconds,
               count(*) AS decided
        FROM contributions c
        CROSS JOIN LATERAL (SELECT min(d.decided_at) AS decided_at FROM decisions d
                            WHERE d.contribution_id = c.id AND NOT d.automated) first
        WHERE {scope} AND first.decided_at IS NOT NULL AND first.decided_at > now() - interval '30 days'
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        *args,
    )
    return {"backlog": [dict(row) for row in backlog], "median_seconds": timing["median_seconds"],
            "decided": timing["decided"]}


# Each contribution's first automatic decision since $1 (of territory $2, or all when NULL), with the
# latest decision a person made after it, if any.
_AUTOMATIC_THEN_PERSON = """
    WITH automatic AS (
        SELECT DISTINCT ON (d.contribution_id) d.contribution_id, d.outcome, d.grounds, d.decided_at
        FROM decisions d JOIN contributions c ON c.id = d.contribution_id
        WHERE d.automated AND d.decided_at >= $1 AND ($2::text IS NULL OR c.territory = $2)
        ORDER BY d.contribution_id, d.decided_at
    ), judged AS (
        SELECT a.contribution_id, a.outcome AS automatic_outcome, a.grounds AS automatic_grounds,
               p.outcome AS person_outcome, p.grounds AS person_grounds, p.decided_at AS person_decided_at
        FROM automatic a LEFT JOIN LATERAL (
            SELECT d.outcome, d.grounds, d.decided_at FROM decisions d
            WHERE d.contribution_id = a.contribution_id AND NOT d.automated AND d.decided_at >= a.decided_at
            ORDER BY d.decided_at DESC LIMIT 1
        ) p ON true
    )
"""
_PUBLISHED = "('published', 'published-redacted')"
_HELD_OR_REJECTED = "('held', 'rejected')"


async def overturns(conn: asyncpg.Connection | asyncpg.Pool, *, since: datetime, territory: str | None,
                    holding_grounds: Sequence[str]) -> dict[str, Any]:
    """Of the automatic decisions since `since`: how many published; per holding ground, how many held or
    rejected and how many of those a person then published; per ground, how many automatic publications a
    person then rejected on it."""
    rows = await conn.fetch(
        _AUTOMATIC_THEN_PERSON + f"""
        SELECT 'published' AS way, NULL AS ground, count(*) AS decided, 0 AS overturned
        FROM judged WHERE automatic_outcome IN {_PUBLISHED}
        UNION ALL
        SELECT 'held', g.ground, count(*), count(*) FILTER (WHERE j.person_outcome IN {_PUBLISHED})
        FROM judged j CROSS JOIN jsonb_array_elements_text(j.automatic_grounds) g(ground)
        WHERE j.automatic_outcome IN {_HELD_OR_REJECTED} AND g.ground = ANY($3::text[])
        GROUP BY g.ground
        UNION ALL
        SELECT 'rejected', g.ground, 0, count(*)
        FROM judged j CROSS JOIN jsonb_array_elements_text(j.person_grounds) g(ground)
        WHERE j.automatic_outcome IN {_PUBLISHED} AND j.person_outcome = 'rejected'
        GROUP BY g.ground
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        since, territory, list(holding_grounds))
    return {"published_automatically": sum(row["decided"] for row in rows if row["way"] == "published"),
            "held": {row["ground"]: (row["decided"], row["overturned"]) for row in rows if row["way"] == "held"},
            "rejected_after_publication": {row["ground"]: row["overturned"] for row in rows
                                           if row["way"] == "rejected"}}


async def overturned_cases(conn: asyncpg.Connection | asyncpg.Pool, *, since: datetime,
                           holding_grounds: Sequence[str]) -> list[dict[str, Any]]:
    """The contributions whose automatic decision (since `since`) a person overturned, either way, with
    their text as submitted (erased ones left out), the oldest overturn first."""
    rows = await conn.fetch(
        _AUTOMATIC_THEN_PERSON + f"""
        SELECT j.contribution_id::text, c.title, c.body, c.language, j.automatic_outcome, j.automatic_grounds,
               j.person_outcome, j.person_grounds
        FROM judged j JOIN contributions c ON c.id = j.contribution_id
        WHERE c.status <> 'erased' AND (
            (j.automatic_outcome IN {_PUBLISHED} AND j.person_outcome = 'rejected')
            OR (j.automatic_outcome IN {_HELD_OR_REJECTED} AND j.person_outcome IN {_PUBLISHED}
                AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(j.automatic_grounds) g(ground)
                            WHERE g.ground = ANY($3::text[]))))
        ORDER BY j.person_decided_at, j.contribution_id
        """,  # nosec B608 # constant SQL fragments; values are bind parameters
        since, None, list(holding_grounds))
    return [dict(row) for row in rows]


# --- moderators and their sessions ---------------------------------------------------------------

async def moderator(conn: asyncpg.Connection | asyncpg.Pool, login: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM moderators WHERE login = $1", login)
    return dict(row) if row else None


async def open_session(conn: asyncpg.Connection | asyncpg.Pool, token_hash: str, login: str, csrf_token: str,
                       hours: float) -> None:
    await conn.execute(
        "INSERT INTO sessions (token_hash, login, csrf_token, expires_at) "
        "VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        token_hash, login, csrf_token, hours * 3600,
    )
    await conn.execute("DELETE FROM sessions WHERE expires_at < now()")


async def session(conn: asyncpg.Connection | asyncpg.Pool, token_hash: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT s.csrf_token, s.expires_at, m.login, m.territory, m.role, m.language "
        "FROM sessions s JOIN moderators m ON m.login = s.login "
        "WHERE s.token_hash = $1 AND s.expires_at > now() AND m.disabled_at IS NULL",
        token_hash,
    )
    return dict(row) if row else None


async def change_moderator(pool: asyncpg.Pool, login: str, *, actor: str, action: str,
                           password_hash: str | None = None, disable: bool = False) -> bool:
    """A new password hash, or disabling; either ends the moderator's sessions, and is audited, in one
    transaction. False when there is no such moderator."""
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            "UPDATE moderators SET password_hash = coalesce($2, password_hash), "
            "disabled_at = CASE WHEN $3 THEN coalesce(disabled_at, now()) ELSE disabled_at END WHERE login = $1",
            login, password_hash, disable)
        if not status.endswith(" 1"):
            return False
        await conn.execute("DELETE FROM sessions WHERE login = $1", login)
        await conn.execute("INSERT INTO credential_events (actor, subject, action) VALUES ($1, $2, $3)",
                           actor, f"moderator:{login}", action)
    return True


async def credential_events(pool: asyncpg.Pool, limit: int) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT at, actor, subject, action FROM credential_events ORDER BY id DESC LIMIT $1",
                            limit)
    return [{**dict(row), "at": row["at"].isoformat()} for row in rows]


async def close_session(conn: asyncpg.Connection | asyncpg.Pool, token_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)


async def framework_of(conn: asyncpg.Connection | asyncpg.Pool, consultation_id: str) -> dict | None:
    return await conn.fetchval("SELECT framework FROM consultations WHERE id = $1", consultation_id)


async def axis_corrections_of(conn: asyncpg.Connection | asyncpg.Pool, contribution_id: str) -> list[dict[str, Any]]:
    """The axis corrections of a contribution, oldest first: the last one is its axis now."""
    rows = await conn.fetch(
        "SELECT * FROM axis_corrections WHERE contribution_id = $1 ORDER BY corrected_at, id", contribution_id
    )
    return [dict(row) for row in rows]


async def insert_axis_correction(conn: asyncpg.Connection, correction_id: str, contribution_id: str, axis: str,
                                 previous_axis: str | None, corrected_by: str, corrected_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO axis_corrections (id, contribution_id, axis, previous_axis, corrected_by, corrected_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        correction_id, contribution_id, axis, previous_axis, corrected_by, corrected_at,
    )
