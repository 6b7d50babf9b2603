"""Synthesis's SQL: published contributions, live counts, computed syntheses."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from shared.db import Insert, bulk_insert, insert_together
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


async def placing_context(conn, consultation_ids: Sequence[str],
                          contribution_ids: Sequence[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """What placing published contributions on axes needs, read in one statement: the frameworks of their
    consultations, and the axis a person gave those of them a person corrected."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT coalesce(jsonb_object_agg(c.id, c.framework), '{}') FROM consultations c
                WHERE c.id = ANY($1::text[])) AS frameworks,
               (SELECT coalesce(jsonb_object_agg(a.contribution_id::text, a.axis), '{}') FROM axis_corrections a
                WHERE a.contribution_id = ANY($2::uuid[])) AS corrected
        """,
        list(consultation_ids), list(contribution_ids),
    )
    return row["frameworks"], row["corrected"]


@dataclass(frozen=True, slots=True)
class PublishedRow:
    """A published contribution as the synthesis keeps it, with the axis it was placed on."""

    id: str
    territory: str
    country: str
    consultation: str
    kind: str | None
    author_role: str | None
    channel: str | None
    language: str
    title: str | None
    text: str
    submitted_at: datetime
    published_at: datetime
    source_axis: str | None
    axis: str | None
    axis_source: str
    axis_confidence: float | None
    question: str | None


PUBLISHED_COLUMNS = [
    ("id", "uuid"), ("territory", "text"), ("country", "bpchar"), ("consultation", "text"), ("kind", "text"),
    ("author_role", "text"), ("channel", "text"), ("language", "text"), ("title", "text"), ("text", "text"),
    ("submitted_at", "timestamptz"), ("published_at", "timestamptz"), ("source_axis", "text"), ("axis", "text"),
    ("axis_source", "text"), ("axis_confidence", "float4"), ("question", "text"),
]


async def insert_published(conn: asyncpg.Connection, rows: Sequence[PublishedRow]) -> set[str]:
    """Insert newly published contributions; returns the ids of those actually inserted (for the counts).

    A contribution published again (a decision changed on appeal, e.g. now redacted) keeps its place and
    its axis but takes the new published text: nothing public may outlive its redaction.
    """
    written = await bulk_insert(
        conn, "contributions", PUBLISHED_COLUMNS, rows,
        suffix="ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, title = EXCLUDED.title, "
               "published_at = EXCLUDED.published_at "
               "WHERE contributions.text IS DISTINCT FROM EXCLUDED.text "
               "OR contributions.title IS DISTINCT FROM EXCLUDED.title "
               "RETURNING (xmax = 0) AS inserted, id::text",
    )
    return {row["id"] for row in written if row["inserted"]}


async def remove_published(conn: asyncpg.Connection, ids: Sequence[str]) -> list[tuple]:
    if not ids:
        return []
    removed = await conn.fetch(
        "WITH removed AS (DELETE FROM contributions WHERE id = ANY($1::uuid[]) "
        "RETURNING id, territory, country, axis, kind, author_role, channel), "
        "subthemes AS (DELETE FROM contribution_subthemes s USING removed r WHERE s.contribution_id = r.id) "
        "SELECT territory, country, axis, kind, author_role, channel FROM removed",
        list(ids),
    )
    return [tuple(row) for row in removed]


async def versions_mentioning(conn: asyncpg.Connection, contribution_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The stored synthesis versions whose document names one of these contributions."""
    if not contribution_ids:
        return []
    rows = await conn.fetch(
        "SELECT scope, key, version, document FROM syntheses WHERE document::text LIKE ANY($1::text[])",
        [f"%{i}%" for i in contribution_ids])
    return [dict(row) for row in rows]


async def rewrite_documents(conn: asyncpg.Connection, versions: Sequence[dict[str, Any]]) -> None:
    for row in versions:
        await conn.execute("UPDATE syntheses SET document = $4 WHERE scope = $1 AND key = $2 AND version = $3",
                           row["scope"], row["key"], row["version"], row["document"])


COUNT_COLUMNS = [("territory", "text"), ("country", "bpchar"), ("axis", "text"), ("kind", "text"),
                 ("author_role", "text"), ("channel", "text"), ("n", "int8")]


def counts_insert(keys: Sequence[tuple], sign: int = 1) -> Insert:
    """One added (or removed) per (territory, country, axis, kind, role, channel) key, as an insert that may
    run beside others (`shared.db.insert_together`)."""
    counter = Counter(
        (t, c, axis or UNCLASSIFIED, kind or "-", role or "-", channel or "-")
        for t, c, axis, kind, role, channel in keys
    )
    return Insert("counts", COUNT_COLUMNS, [(*key, sign * n) for key, n in sorted(counter.items())],
                  suffix="ON CONFLICT (territory, axis, kind, author_role, channel) "
                         "DO UPDATE SET n = counts.n + EXCLUDED.n")


async def add_counts(conn: asyncpg.Connection, keys: Sequence[tuple], sign: int = 1) -> None:
    """Add (or remove) one per (territory, country, axis, kind, role, channel) key."""
    await insert_together(conn, counts_insert(keys, sign))


def scopes_of(places: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The scopes a change in these (territory, country) places touches: each territory, its country, the network."""
    scopes = {("network", "network")} if places else set()
    for territory, country in places:
        scopes |= {("territory", territory), ("country", country.upper())}
    return scopes


async def request_recompute(conn: asyncpg.Connection, scopes: set[tuple[str, str]], *, asked: bool = False) -> None:
    """Ask for a recompute; an earlier pending request is kept, so a scope waits at most one debounce.
    `asked`: a person asked for it, so it is due at once (it still waits for the rest after the last one)."""
    if not scopes:
        return
    ordered = sorted(scopes)
    await conn.execute(
        "INSERT INTO recompute_requests (scope, key, asked) SELECT *, $3 FROM unnest($1::text[], $2::text[]) "
        # a pending request is left as it is (no row version written) unless a person now asks for it
        "ON CONFLICT (scope, key) DO UPDATE SET asked = true WHERE EXCLUDED.asked AND NOT recompute_requests.asked",
        [s for s, _ in ordered], [k for _, k in ordered], asked,
    )


class ClaimedScopes(NamedTuple):
    scopes: list[tuple[str, str]]  # (scope, key), sorted
    asked: bool  # a person asked for one of them


async def claim_due_requests(conn: asyncpg.Connection, debounce_s: float,
                             rest_factor: float = 0.0) -> ClaimedScopes:
    """Take the requests older than the debounce, and those a person asked for, unless the last recompute
    (by any replica) finished less than `rest_factor` times its own duration ago."""
    rows = await conn.fetch(
        "DELETE FROM recompute_requests WHERE (scope, key) IN (SELECT scope, key FROM recompute_requests "
        "WHERE (asked OR requested_at <= now() - make_interval(secs => $1)) AND NOT EXISTS (SELECT 1 FROM "
        "last_recompute WHERE now() < finished_at + make_interval(secs => seconds * $2)) FOR UPDATE SKIP LOCKED) "
        "RETURNING scope, key, asked",
        float(debounce_s), float(rest_factor),
    )
    return ClaimedScopes(sorted((row["scope"], row["key"]) for row in rows), any(row["asked"] for row in rows))


async def record_recompute(conn: asyncpg.Connection, seconds: float, scopes: int, contributions: int) -> None:
    await conn.execute(
        "INSERT INTO last_recompute (finished_at, seconds, scopes, contributions) VALUES (now(), $1, $2, $3) "
        "ON CONFLICT (single) DO UPDATE SET finished_at = EXCLUDED.finished_at, seconds = EXCLUDED.seconds, "
        "scopes = EXCLUDED.scopes, contributions = EXCLUDED.contributions",
        float(seconds), scopes, contributions,
    )


async def contributions_inserted(conn: asyncpg.Connection) -> int:
    """Rows ever inserted into `contributions`, from PostgreSQL's statistics: a cheap gauge of how busy the
    pipeline is, read by the recompute worker, which does not see the consumers' batches."""
    return await conn.fetchval(
        "SELECT COALESCE(n_tup_ins, 0) FROM pg_stat_user_tables WHERE relid = 'contributions'::regclass") or 0


async def stale_scopes(conn: asyncpg.Connection) -> set[tuple[str, str]]:
    """Scopes whose latest computed synthesis does not count what the live counts hold (or has none)."""
    rows = await conn.fetch(
        """
        WITH live AS (
            SELECT 'territory' AS scope, territory AS key, sum(n) AS n FROM counts GROUP BY territory
            UNION ALL SELECT 'country', country::text, sum(n) FROM counts GROUP BY country
            UNION ALL SELECT 'network', 'network', sum(n) FROM counts
        ), latest AS (
            SELECT DISTINCT ON (scope, key) scope, key, contributions_count FROM syntheses
            ORDER BY scope, key, version DESC
        )
        SELECT live.scope, live.key FROM live LEFT JOIN latest USING (scope, key)
        WHERE live.n > 0 AND live.n IS DISTINCT FROM latest.contributions_count
        """
    )
    return {(row["scope"], row["key"]) for row in rows}


async def load_corpus(conn: asyncpg.Connection, chunk: int = 10_000) -> list[tuple]:
    """Every published contribution as the recompute needs it, in id order, read through a cursor in
    chunks; the values many rows repeat (territory, consultation, axis, kind…) are held once."""
    shared: dict[Any, Any] = {}
    once = shared.setdefault
    rows: list[tuple] = []
    async with conn.transaction(readonly=True):
        cursor = conn.cursor(
            "SELECT c.id::text, c.territory, c.country::text, c.consultation, c.kind, c.author_role, c.channel, "
            "c.text, c.axis, c.axis_source, s.subtheme, c.question FROM contributions c "
            "LEFT JOIN contribution_subthemes s ON s.contribution_id = c.id ORDER BY c.id", prefetch=chunk)
        async for row in cursor:
            cid, territory, country, consultation, kind, role, channel, text, axis, source, subtheme, question = row
            rows.append((cid, once(territory, territory), once(country, country), once(consultation, consultation),
                         once(kind, kind), once(role, role), once(channel, channel), text, once(axis, axis),
                         once(source, source), once(subtheme, subtheme), once(question, question)))
    return rows


async def consultation_frameworks(conn) -> dict[str, tuple[str, dict]]:
    """consultation id → (territory, framework)."""
    rows = await conn.fetch("SELECT id, territory, framework FROM consultations")
    return {row["id"]: (row["territory"], row["framework"]) for row in rows}


async def classifier_corpus(conn, framework_id: str, version: str, limit: int) -> list[tuple]:
    """Up to `limit` published contributions of a framework's consultations (id order: uuid5, well spread)."""
    rows = await conn.fetch(
        "SELECT c.id::text, c.text, c.axis, c.axis_source, c.question FROM contributions c JOIN consultations k "
        "ON k.id = c.consultation WHERE k.framework->>'id' = $1 AND k.framework->>'version' = $2 "
        "ORDER BY c.id LIMIT $3",
        framework_id, version, limit,
    )
    return [tuple(row) for row in rows]


async def save_classifier(conn, key: str, model: bytes, corpus_size: int) -> datetime:
    """Keep a fitted classifier (pickled); a newer fit replaces an older one."""
    return await conn.fetchval(
        "INSERT INTO axis_classifiers (framework_key, fitted_at, corpus_size, model) "
        "VALUES ($1, clock_timestamp(), $2, $3) ON CONFLICT (framework_key) DO UPDATE "
        "SET fitted_at = EXCLUDED.fitted_at, corpus_size = EXCLUDED.corpus_size, model = EXCLUDED.model "
        "RETURNING fitted_at",
        key, corpus_size, model,
    )


async def classifier_fits(conn) -> dict[str, datetime]:
    """When each stored classifier was fitted (without the models: cheap to ask often)."""
    return {row["framework_key"]: row["fitted_at"]
            for row in await conn.fetch("SELECT framework_key, fitted_at FROM axis_classifiers")}


async def stored_classifiers(conn, keys: Sequence[str]) -> list[tuple[str, datetime, bytes]]:
    rows = await conn.fetch(
        "SELECT framework_key, fitted_at, model FROM axis_classifiers WHERE framework_key = ANY($1::text[])",
        list(keys),
    )
    return [(row["framework_key"], row["fitted_at"], row["model"]) for row in rows]


async def move_axes(conn: asyncpg.Connection,
                    changes: Sequence[tuple[str, str | None, str | None, float, str]]) -> list[dict[str, Any]]:
    """Apply the classifier's new placements (id, previous axis, axis, confidence, classifier version), move
    the counts, and record each move in the contribution's axis history; returns the contributions moved
    (id, territory, country, consultation, axis).

    A row changed meanwhile (corrected by a person, withdrawn) is left alone: the guard on the previous axis
    and on where it came from sees to that.
    """
    if not changes:
        return []
    moved = await conn.fetch(
        """
        WITH moved AS (
            UPDATE contributions c SET axis = u.axis, axis_source = 'classifier', axis_confidence = u.confidence
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float4[], $5::text[])
                AS u(id, previous, axis, confidence, version)
            WHERE c.id = u.id AND c.axis IS NOT DISTINCT FROM u.previous AND c.axis_source IN ('classifier', 'none')
            RETURNING c.id, c.territory, c.country, c.consultation, u.previous, u.axis, c.kind, c.author_role,
                      c.channel, u.confidence, u.version
        ), recorded AS (
            INSERT INTO axis_history (contribution_id, previous_axis, axis, axis_source, classifier_version, confidence)
            SELECT id, previous, axis, 'classifier', version, confidence FROM moved
        )
        SELECT id::text, territory, country::text, consultation, previous, axis, kind, author_role, channel FROM moved
        """,
        [c[0] for c in changes], [c[1] for c in changes], [c[2] for c in changes], [c[3] for c in changes],
        [c[4] for c in changes],
    )
    keys = [(r["territory"], r["country"], r["kind"], r["author_role"], r["channel"]) for r in moved]
    await add_counts(conn, [(t, c, r["previous"], *rest) for r, (t, c, *rest) in zip(moved, keys, strict=True)],
                     sign=-1)
    await add_counts(conn, [(t, c, r["axis"], *rest) for r, (t, c, *rest) in zip(moved, keys, strict=True)])
    return [{k: r[k] for k in ("id", "territory", "country", "consultation", "axis")} for r in moved]


async def axis_history(pool, contribution_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT changed_at, previous_axis, axis, axis_source, classifier_version, confidence, changed_by "
        "FROM axis_history WHERE contribution_id = $1 ORDER BY changed_at",
        contribution_id,
    )
    return [dict(row) for row in rows]


async def write_subthemes(conn: asyncpg.Connection, subthemes: dict[str, str | None]) -> None:
    """Each contribution's new sub-theme (None: in none any more); a contribution withdrawn meanwhile is
    left out (one withdrawn while this runs may leave a row that nothing reads)."""
    named = sorted(cid for cid, subtheme in subthemes.items() if subtheme is not None)
    if named:
        await conn.execute(
            "INSERT INTO contribution_subthemes (contribution_id, subtheme) "
            "SELECT u.id, u.subtheme FROM unnest($1::uuid[], $2::text[]) AS u(id, subtheme) "
            "JOIN contributions c ON c.id = u.id "
            "ON CONFLICT (contribution_id) DO UPDATE SET subtheme = EXCLUDED.subtheme",
            named, [subthemes[cid] for cid in named],
        )
    gone = sorted(cid for cid, subtheme in subthemes.items() if subtheme is None)
    if gone:
        await conn.execute("DELETE FROM contribution_subthemes WHERE contribution_id = ANY($1::uuid[])", gone)


async def insert_synthesis(conn: asyncpg.Connection, scope: str, key: str, contributions_count: int,
                           document: dict[str, Any], keep: int = 20) -> tuple[int, Any]:
    """Store a new version of a scope's synthesis (the previous `keep` versions stay); returns (version, time)."""
    row = await conn.fetchrow(
        "INSERT INTO syntheses (scope, key, version, contributions_count, document) "
        "SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4 FROM syntheses WHERE scope = $1 AND key = $2 "
        "RETURNING version, computed_at",
        scope, key, contributions_count, document,
    )
    await conn.execute("DELETE FROM syntheses WHERE scope = $1 AND key = $2 AND version <= $3",
                       scope, key, row["version"] - keep)
    return row["version"], row["computed_at"]


async def territory_country(conn, territory: str) -> str | None:
    return await conn.fetchval("SELECT country::text FROM territories WHERE id = $1", territory)


async def consultation_places(conn, consultations: Sequence[str]) -> dict[str, dict[str, Any]]:
    """consultation id → its territory, the territory's country and the framework's id."""
    rows = await conn.fetch(
        "SELECT k.id, k.territory, t.country::text AS country, k.framework->>'id' AS framework "
        "FROM consultations k LEFT JOIN territories t ON t.id = k.territory WHERE k.id = ANY($1::text[])",
        list(consultations))
    return {row["id"]: dict(row) for row in rows}


async def contribution_for_update(conn: asyncpg.Connection, contribution_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT c.id, c.territory, c.country::text AS country, c.consultation, c.axis, c.axis_source, c.kind, "
        "c.author_role, c.channel, k.framework FROM contributions c LEFT JOIN consultations k ON k.id = c.consultation "
        "WHERE c.id = $1 FOR UPDATE OF c",
        contribution_id,
    )
    return dict(row) if row else None


async def latest_correction_at(conn: asyncpg.Connection, contribution_id: str) -> datetime | None:
    return await conn.fetchval("SELECT corrected_at FROM axis_corrections WHERE contribution_id = $1",
                               contribution_id)


async def record_correction(conn: asyncpg.Connection, contribution_id: str, axis: str, corrected_by: str,
                            corrected_at) -> None:
    await conn.execute(
        "INSERT INTO axis_corrections (contribution_id, axis, corrected_by, corrected_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (contribution_id) DO UPDATE SET axis = EXCLUDED.axis, corrected_by = EXCLUDED.corrected_by, "
        "corrected_at = EXCLUDED.corrected_at",
        contribution_id, axis, corrected_by, corrected_at,
    )
    await conn.execute(
        "WITH previous AS (SELECT axis FROM contributions WHERE id = $1) "
        "INSERT INTO axis_history (contribution_id, previous_axis, axis, axis_source, changed_by, changed_at) "
        "SELECT $1, previous.axis, $2, 'person', $3, $4 FROM previous",
        contribution_id, axis, corrected_by, corrected_at,
    )
    await conn.execute(
        "UPDATE contributions SET axis = $2, axis_source = 'person', axis_confidence = NULL WHERE id = $1",
        contribution_id, axis,
    )


async def published_texts(pool, ids: Sequence[str]) -> dict[str, str]:
    """The current published text of those of `ids` that are still published."""
    if not ids:
        return {}
    rows = await pool.fetch("SELECT id::text, text FROM contributions WHERE id = ANY($1::uuid[])", list(ids))
    return {row["id"]: row["text"] for row in rows}


async def scope_frameworks(pool, scope: str, key: str) -> list[dict]:
    """The frameworks of the consultations held in a scope."""
    if scope == "consultation":
        rows = await pool.fetch("SELECT framework FROM consultations WHERE id = $1", key)
    elif scope == "framework":
        rows = await pool.fetch("SELECT DISTINCT framework FROM consultations WHERE framework->>'id' = $1", key)
    elif scope == "network":
        rows = await pool.fetch("SELECT DISTINCT framework FROM consultations")
    elif scope == "country":
        rows = await pool.fetch(
            "SELECT DISTINCT k.framework FROM consultations k JOIN territories t ON t.id = k.territory "
            "WHERE t.country = $1", key)
    else:
        rows = await pool.fetch("SELECT DISTINCT framework FROM consultations WHERE territory = $1", key)
    return [row["framework"] for row in rows]


async def counts_by_territory(pool, scope: str, key: str) -> list[dict[str, Any]]:
    """Live counts per territory and axis within a scope (for the comparison of territories)."""
    if scope in ("consultation", "framework"):
        rows = await pool.fetch(
            "SELECT c.territory, coalesce(t.name, c.territory) AS name, coalesce(c.axis, 'non-classe') AS axis, "
            "count(*)::bigint AS n FROM contributions c JOIN consultations k ON k.id = c.consultation "
            f"LEFT JOIN territories t ON t.id = c.territory WHERE {_CONTRIBUTION_FILTERS[scope]} "  # nosec B608 # constant SQL fragments; values are bind parameters
            "GROUP BY 1, 2, 3 ORDER BY 1, 3",
            key,
        )
        return [dict(row) for row in rows]
    where, args = scope_filter(scope, key)
    rows = await pool.fetch(
        f"WITH scoped AS (SELECT territory, axis, sum(n)::bigint AS n FROM counts WHERE {where} AND n <> 0 "  # nosec B608 # constant SQL fragments; values are bind parameters
        "GROUP BY territory, axis) SELECT s.territory, coalesce(t.name, s.territory) AS name, s.axis, s.n "
        "FROM scoped s LEFT JOIN territories t ON t.id = s.territory WHERE s.n <> 0 ORDER BY s.territory, s.axis",
        *args,
    )
    return [dict(row) for row in rows]


async def territories(pool, country: str | None = None) -> list[dict[str, Any]]:
    if country:
        rows = await pool.fetch("SELECT id, name, country::text AS country FROM territories WHERE country = $1 "
                                "ORDER BY name", country)
    else:
        rows = await pool.fetch("SELECT id, name, country::text AS country FROM territories ORDER BY country, name")
    return [dict(row) for row in rows]


async def territories_using(pool, scope: str, key: str) -> list[dict[str, Any]]:
    """The territories that hold a consultation (scope "consultation") or use a framework ("framework")."""
    where = "k.id = $1" if scope == "consultation" else "k.framework->>'id' = $1"
    rows = await pool.fetch(
        "SELECT DISTINCT t.id, t.name, t.country::text AS country FROM territories t "
        f"JOIN consultations k ON k.territory = t.id WHERE {where} ORDER BY country, name",  # nosec B608 # constant SQL fragments; values are bind parameters
        key,
    )
    return [dict(row) for row in rows]


_CONTRIBUTION_FILTERS = {
    "network": "TRUE", "country": "c.country = $1", "territory": "c.territory = $1",
    "consultation": "c.consultation = $1", "framework": "k.framework->>'id' = $1",
}


async def framework_counts(pool, scope: str, key: str) -> list[dict[str, Any]]:
    """Live counts of a scope's published contributions per framework (id, version) and axis, with each
    framework's definition: a synthesis never adds the axes of two frameworks together."""
    args = [] if scope == "network" else [key.upper() if scope == "country" else key]
    rows = await pool.fetch(
        "SELECT k.framework->>'id' AS framework_id, k.framework->>'version' AS framework_version, "
        "min(k.framework::text)::jsonb AS framework, coalesce(c.axis, 'non-classe') AS axis, count(*) AS n "
        "FROM contributions c JOIN consultations k ON k.id = c.consultation "
        f"WHERE {_CONTRIBUTION_FILTERS[scope]} GROUP BY 1, 2, 4 ORDER BY 1, 2, 4",  # nosec B608 # constant SQL fragments; values are bind parameters
        *args,
    )
    return [dict(row) for row in rows]


async def contribution_counts(pool, scope: str, key: str) -> list[dict[str, Any]]:
    """`counts` for a consultation or a framework, from the published contributions themselves."""
    rows = await pool.fetch(
        "SELECT coalesce(c.axis, 'non-classe') AS axis, coalesce(c.kind, '-') AS kind, "
        "coalesce(c.author_role, '-') AS author_role, coalesce(c.channel, '-') AS channel, count(*)::bigint AS n "
        "FROM contributions c JOIN consultations k ON k.id = c.consultation "
        f"WHERE {_CONTRIBUTION_FILTERS[scope]} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",  # nosec B608 # constant SQL fragments; values are bind parameters
        key,
    )
    return [dict(row) for row in rows]


async def consultation_exists(pool, consultation: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM consultations WHERE id = $1", consultation))


async def framework_exists(pool, framework_id: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM consultations WHERE framework->>'id' = $1 LIMIT 1", framework_id))


def scope_filter(scope: str, key: str) -> tuple[str, list[Any]]:
    if scope == "network":
        return "TRUE", []
    if scope == "country":
        return "country = $1", [key.upper()]
    return "territory = $1", [key]


async def counts(pool: asyncpg.Pool, scope: str, key: str) -> list[dict[str, Any]]:
    where, args = scope_filter(scope, key)
    rows = await pool.fetch(
        f"SELECT axis, kind, author_role, channel, sum(n)::bigint AS n FROM counts WHERE {where} AND n <> 0 "  # nosec B608 # constant SQL fragments; values are bind parameters
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
        "SELECT c.id, c.territory, c.country::text AS country, c.consultation, c.axis, c.axis_source, "
        "c.axis_confidence, s.subtheme, c.kind, c.author_role, c.channel, c.title, c.text, c.published_at, c.question, "
        "k.framework, a.corrected_by, a.corrected_at, t.name AS territory_name "
        "FROM contributions c LEFT JOIN consultations k ON k.id = c.consultation "
        "LEFT JOIN contribution_subthemes s ON s.contribution_id = c.id "
        "LEFT JOIN axis_corrections a ON a.contribution_id = c.id LEFT JOIN territories t ON t.id = c.territory "
        "WHERE c.id = $1",
        contribution_id,
    )
    return dict(row) if row else None
