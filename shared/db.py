"""PostgreSQL helpers: one asyncpg pool per service, scoped to the service's own schema."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from shared.decision_order import Applied, Change, DecisionMark, mark_of, resolve_all


def json_text(value: Any) -> str:
    """JSON for a json/jsonb parameter. orjson, because the standard library's encoder was a few percent of
    every service's CPU under load; values it does not know (e.g. Decimal) are written as strings."""
    return orjson.dumps(value, default=str).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json_text, decoder=orjson.loads, schema="pg_catalog")


async def _reset_on_release(conn: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: no transaction left open.

    asyncpg's default also runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release, a round trip that cost a tenth of intake's CPU per request. Pooled connections here keep no
    session state: settings come with the connection, the outbox listener keeps its connection for the
    process's life and unlistens itself, the recompute lock is unlocked by its holder."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(database_url: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see the service's schema first (and `public` for extensions)."""
    return await asyncpg.create_pool(
        dsn=database_url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_reset_on_release,
        server_settings={"search_path": f"{schema},public", "application_name": f"palabre-{schema}"},
    )


@contextlib.asynccontextmanager
async def transaction(pool: asyncpg.Pool, *, atomic: bool = True) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection inside a transaction; with `atomic=False`, for a caller that runs one statement
    (atomic on its own), outside a transaction block: a BEGIN and a COMMIT fewer."""
    async with pool.acquire() as conn:
        if not atomic:
            yield conn
            return
        async with conn.transaction():
            yield conn


async def claim_new_events(conn: asyncpg.Connection, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Record event ids as processed by `consumer`, returning those not seen before.

    Called inside the transaction that applies the events, so an event is applied exactly once even
    when JetStream redelivers it.
    """
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    rows = await conn.fetch(
        """
        INSERT INTO processed_events (consumer, event_id)
        SELECT $1, unnest($2::text[])
        ON CONFLICT DO NOTHING
        RETURNING event_id
        """,
        consumer,
        ids,
    )
    return {row["event_id"] for row in rows}


PRUNE_BATCH = 10_000
PROCESSED_EVENTS_MARGIN_S = 86400


def processed_events_horizon_s(stream_max_age_s: int) -> int:
    """How long a processed-event record is kept: a consumer can be handed an event again only while the
    stream keeps it (its record is written after its publication), so a day beyond the streams' max age.
    A replayed dead letter goes only to the consumer that gave up on it, which holds no record of it."""
    return stream_max_age_s + PROCESSED_EVENTS_MARGIN_S


async def prune_processed_events(pool: asyncpg.Pool, older_than_s: float) -> int:
    """Delete the processed-event records older than `older_than_s`, a batch per statement (short locks;
    no index on `processed_at`, which would cost every event's insert: the oldest rows come first in the
    table, so each batch finds them early). Returns how many were deleted."""
    deleted = 0
    while True:
        status = await pool.execute(
            "DELETE FROM processed_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM processed_events "
            "WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2))",
            float(older_than_s), PRUNE_BATCH,
        )
        count = int(status.split()[-1])
        deleted += count
        if count < PRUNE_BATCH:
            return deleted


async def lock_contributions(conn: asyncpg.Connection, contribution_ids: Iterable[str]) -> None:
    """Hold each contribution until the transaction ends, so that two consumers applying decisions on the
    same contribution (published and rejected, say) take turns; taken in one order, they cannot deadlock.
    The keys are the service's own (its schema), so services do not wait for each other."""
    ids = sorted(set(contribution_ids))
    if ids:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(current_schema() || '/' || id, 0) AS k "
            "FROM unnest($1::text[]) AS id ORDER BY k) AS keys", ids)


async def decision_marks(conn: asyncpg.Connection, contribution_ids: Iterable[str]) -> dict[str, DecisionMark]:
    """The decision a service applied last to each of these contributions (its `contribution_decisions`)."""
    rows = await conn.fetch(
        "SELECT contribution_id::text, decision_id, decided_at, public, erased FROM contribution_decisions "
        "WHERE contribution_id = ANY($1::uuid[])", list(contribution_ids))
    return {row["contribution_id"]: DecisionMark(row["decision_id"], row["decided_at"], row["public"], row["erased"])
            for row in rows}


async def record_decision_marks(conn: asyncpg.Connection, marks: dict[str, DecisionMark],
                                withdrawn: Iterable[str] = ()) -> None:
    """Record the decision that now holds for each contribution; `withdrawn`: those that stopped being public."""
    if not marks:
        return
    ids, withdrawn = sorted(marks), set(withdrawn)
    await conn.execute(
        """
        INSERT INTO contribution_decisions (contribution_id, decision_id, decided_at, public, erased, withdrawn_at)
        SELECT u.id, u.decision_id, u.decided_at, u.public, u.erased, CASE WHEN u.withdrawn THEN u.decided_at END
        FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bool[], $5::bool[], $6::bool[])
            AS u(id, decision_id, decided_at, public, erased, withdrawn)
        ON CONFLICT (contribution_id) DO UPDATE SET decision_id = EXCLUDED.decision_id,
            decided_at = EXCLUDED.decided_at, public = EXCLUDED.public, erased = EXCLUDED.erased,
            withdrawn_at = coalesce(EXCLUDED.withdrawn_at, contribution_decisions.withdrawn_at)
        """,
        ids, [marks[i].decision_id for i in ids], [marks[i].decided_at for i in ids],
        [marks[i].public for i in ids], [marks[i].erased for i in ids], [i in withdrawn for i in ids],
    )


async def apply_in_order(conn: asyncpg.Connection, events: Sequence[Any]) -> list[Applied]:
    """Apply decision events (CloudEvents of published, rejected, held, withdrawn) by their decision's time,
    whatever their order of arrival: returns, per contribution whose holding decision changed, that decision,
    its event and what it changes; the caller carries the change out in the same transaction."""
    decided = [(event.data.contribution_id, mark_of(event.data), event) for event in events]
    ids = {contribution_id for contribution_id, _, _ in decided}
    await lock_contributions(conn, ids)
    applied = resolve_all(await decision_marks(conn, ids), decided)
    await record_decision_marks(conn, {a.contribution_id: a.mark for a in applied},
                                [a.contribution_id for a in applied if a.change is Change.WITHDRAW])
    return applied


def rows_as_dicts(rows: Iterable[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class Insert:
    """A multi-row insert: one array parameter per column, `unnest`ed server-side.

    `columns` are (name, PostgreSQL type); a row is a dataclass whose fields are named after them (or a
    tuple in their order). jsonb values travel as JSON text (arrays of jsonb would be read as
    multi-dimensional arrays). `suffix` is appended (ON CONFLICT ..., RETURNING ...). A row may carry
    values for `passing` columns too (after the others): they are not inserted, `where` may test them.
    """

    table: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[Any]
    suffix: str = ""
    passing: Sequence[tuple[str, str]] = ()
    where: str = ""

    def statement(self, first_parameter: int = 1) -> tuple[str, list[list[Any]]]:
        """The SQL, its parameters numbered from `first_parameter`, and their arrays."""
        carried = [*self.columns, *self.passing]
        names = [name for name, _ in carried]
        arrays: list[list[Any]] = [[] for _ in carried]
        for row in self.rows:
            values = row if isinstance(row, tuple) else [getattr(row, name) for name in names]
            for index, value in enumerate(values):
                if carried[index][1] == "jsonb" and value is not None:
                    value = json_text(value)
                arrays[index].append(value)
        listed = ", ".join(name for name, _ in self.columns)
        params = ", ".join(f"${first_parameter + i}::{'text' if kind == 'jsonb' else kind}[]"
                           for i, (_, kind) in enumerate(carried))
        select = ", ".join(f"u.{name}::jsonb" if kind == "jsonb" else f"u.{name}" for name, kind in self.columns)
        where = f"WHERE {self.where} " if self.where else ""
        sql = (f"INSERT INTO {self.table} ({listed}) SELECT {select} "  # nosec B608 # code constants; values are bind parameters
               f"FROM unnest({params}) AS u({', '.join(names)}) {where}{self.suffix}")
        return sql, arrays


async def bulk_insert(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Any],
    *,
    suffix: str = "",
) -> list[asyncpg.Record]:
    """Insert many rows in one statement (see `Insert`); returns what `suffix` makes it return."""
    if not rows:
        return []
    sql, arrays = Insert(table, columns, rows, suffix).statement()
    return await conn.fetch(sql, *arrays)


async def insert_together(conn: asyncpg.Connection, *inserts: Insert) -> None:
    """Several multi-row inserts in one statement, so one round trip: each but the last is a data-modifying
    WITH clause. They go to different tables (the clauses of a statement do not see each other's rows);
    foreign keys are checked at the end of the statement, so a row may refer to one inserted beside it."""
    statements, arrays = [], []
    for insert in inserts:
        if insert.rows:
            sql, values = insert.statement(len(arrays) + 1)
            statements.append(sql)
            arrays.extend(values)
    if not statements:
        return
    *clauses, last = statements
    prefix = "WITH " + ", ".join(f"inserted_{n} AS ({sql})" for n, sql in enumerate(clauses)) + " " if clauses else ""
    await conn.execute(prefix + last, *arrays)


class Wakeup:
    """Wakes a loop that looks for work in the database when PostgreSQL notifies `channel`.

    Use: `clear()`, look for work, and when there was less than a full batch, `wait(timeout)`. Cleared before
    looking, not after, a notification that arrives while the loop looks is kept, and the wait returns at
    once. The LISTEN has a connection of its own, listened again after it is lost (a database restart), so
    that waking stays immediate instead of falling back to the timeout for good."""

    def __init__(self, pool: asyncpg.Pool, channel: str) -> None:
        self.pool = pool
        self.channel = channel
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    def set(self, *_: Any) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float) -> None:
        """Until notified (or `set()`), at most `timeout` seconds."""
        if not self.listening:
            await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    @property
    def listening(self) -> bool:
        try:
            return self._conn is not None and not self._conn.is_closed()
        except asyncpg.InterfaceError:  # the pool has taken back a connection that was lost
            return False

    async def _listen(self) -> None:
        await self.close()
        try:
            self._conn = await self.pool.acquire()
            await self._conn.add_listener(self.channel, self.set)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            await self.close()  # the database is away: the timeout wakes the loop meanwhile
            return
        self._event.set()  # notifications may have been missed while no one listened: look once more

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(self.channel, self.set)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)
