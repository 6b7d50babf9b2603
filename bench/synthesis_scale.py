"""The synthesis at scale through its real recompute path.

`load` puts N published contributions into a fresh synthesis schema with COPY (23 territories in eight
countries, each with a consultation on the common framework, every third one also a Grand Débat one), with
their live counts, and asks for the recompute of every stale scope, as the worker does at start-up.
`recompute` then runs the worker's own code once (`Recomputer.recompute_due`): the corpus read from
PostgreSQL, the classifiers refitted, every network, country, territory, consultation and framework scope
computed, and everything stored with its `synthesis.updated` events, in one transaction.

Usage: `python -m bench.synthesis_scale load DSN N`, then `python -m bench.synthesis_scale recompute DSN`
(prints its figures as JSON; the parent reads its peak memory from the kernel).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from shared.frameworks import DEFAULT_FRAMEWORK_ID, Framework, default_framework
from shared.vocabulary import AuthorRole, Channel, Kind

SCHEMA = "synthesis"
SYNTHESIS = Path(__file__).resolve().parents[1] / "services" / "synthesis"
MIGRATIONS = SYNTHESIS / "migrations"
GRAND_DEBAT_ID = "grand-debat"
COUNTRIES = ["FR"] * 15 + ["CI", "MA", "MA", "CM", "CA", "BE", "CA", "DE"]
TERRITORIES = [(f"territoire-{i:03d}", country) for i, country in enumerate(COUNTRIES)]
COPY_CHUNK = 50_000
COLUMNS = ["id", "territory", "country", "consultation", "kind", "author_role", "channel", "language", "text",
           "submitted_at", "published_at", "source_axis", "axis", "axis_source", "axis_confidence"]


def frameworks() -> dict[str, Framework]:
    grand_debat = Framework.model_validate_json((SYNTHESIS / "data/frameworks/grand-debat.json").read_text())
    return {DEFAULT_FRAMEWORK_ID: default_framework(), GRAND_DEBAT_ID: grand_debat}


def consultations() -> dict[str, tuple[str, str]]:
    """consultation id → (territory, framework id)."""
    out = {f"{slug}-ia": (slug, DEFAULT_FRAMEWORK_ID) for slug, _ in TERRITORIES}
    out.update({f"{slug}-grand-debat": (slug, GRAND_DEBAT_ID) for slug, _ in TERRITORIES[::3]})
    return out


def contributions(n: int, seed: int = 1) -> Iterator[tuple]:
    """N published contributions as `contributions` rows: texts recombine real sentences (the Lille exports
    when they are here), a fifth of those of a territory with a Grand Débat consultation answer it, and 60 %
    carry an axis of their framework from their source."""
    from services.synthesis.scale_check import sentences

    rng = random.Random(seed)  # nosec B311 # seeded corpus, not a secret
    pool = sentences()
    axes = {key: framework.axis_ids() for key, framework in frameworks().items()}
    debating = {slug for slug, _ in TERRITORIES[::3]}
    kinds, roles, channels = [k.value for k in Kind], [r.value for r in AuthorRole], [c.value for c in Channel]
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        slug, country = TERRITORIES[rng.randrange(len(TERRITORIES))]
        debate = slug in debating and rng.random() < 0.2
        consultation, framework = (f"{slug}-grand-debat", GRAND_DEBAT_ID) if debate else (f"{slug}-ia",
                                                                                          DEFAULT_FRAMEWORK_ID)
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        axis = rng.choice(axes[framework]) if rng.random() < 0.6 else None
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), slug, country, consultation, rng.choice(kinds),
               rng.choice(roles), rng.choice(channels), "fr", text, stamp, stamp, axis, axis,
               "source" if axis else "classifier", 1.0 if axis else None)


async def load(dsn: str, n: int) -> dict[str, Any]:
    """A fresh synthesis schema holding N published contributions, their counts and the recompute requests
    of every stale scope."""
    import asyncpg

    from services.synthesis import store
    from shared.migrations import upgrade

    await upgrade(dsn, SCHEMA, MIGRATIONS)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        shapes = frameworks()
        await conn.executemany("INSERT INTO territories (id, name, country) VALUES ($1, $1, $2)", TERRITORIES)
        await conn.executemany(
            "INSERT INTO consultations (id, territory, framework) VALUES ($1, $2, $3::jsonb)",
            [(key, slug, shapes[framework].model_dump_json()) for key, (slug, framework) in consultations().items()])
        rows = contributions(n)
        first = next(rows, None)  # the sentences are read before the clock starts
        started = time.perf_counter()
        rows = itertools.chain([first] if first else [], rows)
        while chunk := [row for _, row in zip(range(COPY_CHUNK), rows, strict=False)]:
            await conn.copy_records_to_table("contributions", schema_name=SCHEMA, columns=COLUMNS, records=chunk)
        loaded_s = time.perf_counter() - started  # generated and COPYed
        await conn.execute(
            "INSERT INTO counts (territory, country, axis, kind, author_role, channel, n) "
            "SELECT territory, country, coalesce(axis, 'non-classe'), coalesce(kind, '-'), coalesce(author_role, '-'), "
            "coalesce(channel, '-'), count(*) FROM contributions GROUP BY 1, 2, 3, 4, 5, 6")
        await conn.execute("ANALYZE")
        await store.request_recompute(conn, await store.stale_scopes(conn), asked=True)
    finally:
        await conn.close()
    return {"contributions": n, "load_seconds": loaded_s, "load_rows_per_s": n / loaded_s if loaded_s else None}


async def recompute(dsn: str) -> dict[str, Any]:
    """One recompute by the worker's own code, as `palabre serve synthesis-worker` runs it."""
    from services.synthesis.classifiers import ClassifierCache
    from services.synthesis.settings import get_synthesis_settings
    from services.synthesis.worker import Activity, Recomputer, in_daemon_thread, limit_native_threads
    from shared.db import create_pool

    settings = get_synthesis_settings()
    await in_daemon_thread(limit_native_threads, settings.worker_threads)
    pool = await create_pool(dsn, SCHEMA, max_size=4)
    try:
        recomputer = Recomputer(ClassifierCache(settings.classifier_corpus, "bench-only-secret"), Activity())
        started = time.perf_counter()
        written = await recomputer.recompute_due(SimpleNamespace(db=pool))
        seconds = time.perf_counter() - started
        async with pool.acquire() as conn:
            stored = await conn.fetch("SELECT scope, count(*) AS n, sum(contributions_count)::bigint AS counted "
                                      "FROM syntheses GROUP BY scope ORDER BY scope")
            events = await conn.fetchval("SELECT count(*) FROM outbox")
            classifiers = await conn.fetchval("SELECT count(*) FROM axis_classifiers")
            recorded = await conn.fetchval("SELECT contributions FROM last_recompute")
    finally:
        await pool.close()
    scopes: dict[str, list[str]] = {}
    for scope, key, _, _ in written:
        scopes.setdefault(scope, []).append(key)
    return {"seconds": seconds, "scopes": {scope: sorted(keys) for scope, keys in sorted(scopes.items())},
            "stored": {row["scope"]: {"versions": row["n"], "contributions": row["counted"]} for row in stored},
            "outbox_events": events, "classifiers": classifiers, "recorded_contributions": recorded}


def main(argv: list[str]) -> None:
    command, dsn = argv[0], argv[1]
    if command == "load":
        print(json.dumps(asyncio.run(load(dsn, int(argv[2])))))
    elif command == "recompute":
        print(json.dumps(asyncio.run(recompute(dsn))))
    else:
        raise SystemExit(f"unknown command {command!r}: load DSN N | recompute DSN")


if __name__ == "__main__":
    main(sys.argv[1:])
