"""Transactional outbox: outgoing events are committed with the state change, then relayed.

A service writes its events with `add_events` inside the transaction that changes its state. The relay
publishes them to JetStream with `Nats-Msg-Id` = the CloudEvent id and deletes them once JetStream has
acknowledged. A crash between the publish and the delete re-publishes on restart; JetStream's duplicate
window and the consumers' processed-event records make that second publish a no-op.

The busy paths (consumer batches, intake's grouped writes) open their transaction with
`OutboxRelay.transaction()`: their events are handed over, that is published by the writer itself right
after the commit, and the relay loop is not woken for them. The loop deletes the rows handed over and
published since its last round in one statement (not one per transaction), and takes a handed-over row
itself only once it is `HANDOVER_GRACE_S` old: the writer crashed or the bus was away.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.bus import Bus, crash_point, event_headers
from shared.db import Insert, Wakeup, insert_together, transaction
from shared.events import CloudEvent, EventData, envelope
from shared.logging import get_logger

log = get_logger(__name__)

RELAY_BATCH = 1000
PUBLISH_ACK_TIMEOUT_S = 10.0
HANDOVER_GRACE_S = 5.0
OUTBOX_COLUMNS = (("event_id", "text"), ("subject", "text"), ("payload", "bytea"), ("headers", "jsonb"),
                  ("handed_over", "boolean"))

OutboxRow = tuple[str, str, bytes, dict[str, str]]  # event id, subject, payload, headers


@dataclass
class _Handover:
    """The connection of the `OutboxRelay.transaction()` in progress in this task, and the rows it queued."""

    conn: asyncpg.Connection
    rows: list[OutboxRow] = field(default_factory=list)


_handover: ContextVar[_Handover | None] = ContextVar("outbox_handover", default=None)


async def add_events(
    conn: asyncpg.Connection,
    events: Iterable[tuple[EventData, str | None]],
    *,
    source: str,
) -> list[CloudEvent[Any]]:
    """Queue events (payload, deterministic id or None) in the outbox, inside the caller's transaction."""
    insert, envelopes = outbox_insert(conn, events, source=source)
    # one statement: one execution however many events, and one notification unless they are handed over
    await insert_together(conn, insert)
    return envelopes


def outbox_insert(
    conn: asyncpg.Connection,
    events: Iterable[tuple[EventData, str | None]],
    *,
    source: str,
    hand_over: bool = True,
) -> tuple[Insert, list[CloudEvent[Any]]]:
    """The outbox insert of `add_events`, for the caller to run in its transaction on `conn` beside its own
    (`shared.db.insert_together`): one statement fewer. Run it, or fail the transaction. With
    `hand_over=False` the caller hands over (`hand_over_rows`) the rows its statement did insert."""
    envelopes = [envelope(data, source=source, event_id=event_id) for data, event_id in events]
    handover = _handover.get()
    handed_over = handover is not None and handover.conn is conn  # not another connection's transaction
    rows = [(ce.id, ce.data.bus_subject(), ce.model_dump_json().encode(), event_headers(ce), handed_over)
            for ce in envelopes]
    insert = Insert("outbox", OUTBOX_COLUMNS, rows, suffix="ON CONFLICT (event_id) DO NOTHING")
    if hand_over:  # published once the transaction commits; nothing is if it fails
        hand_over_rows(conn, rows)
    return insert, envelopes


def hand_over_rows(conn: asyncpg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Outbox rows written on `conn`, to publish right after the commit of its `OutboxRelay.transaction()`
    (if it is one)."""
    handover = _handover.get()
    if handover is not None and handover.conn is conn:
        handover.rows.extend(row[:4] for row in rows)


class OutboxRelay:
    """Publishes what the outbox holds; several replicas share the work with SKIP LOCKED."""

    def __init__(self, pool: asyncpg.Pool, bus: Bus, schema: str) -> None:
        self.pool = pool
        self.bus = bus
        self._wakeup = Wakeup(pool, f"{schema}_outbox")
        self._task: asyncio.Task | None = None
        self._handovers: set[asyncio.Task] = set()
        self._published_ids: list[str] = []  # handed over and published, still to be deleted
        self.published = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._wakeup.channel}")

    async def stop(self) -> None:
        await self.handovers_done(PUBLISH_ACK_TIMEOUT_S)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        with contextlib.suppress(Exception):  # what is left is published again after a restart (de-duplicated)
            await self.delete_published()
        await self._wakeup.close()

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                sent = await self.relay_once()
            except Exception as exc:  # noqa: BLE001 - the relay must outlive a bus or database outage
                log.warning("outbox relay failed, retrying", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            if sent < RELAY_BATCH:
                await self._wakeup.wait(timeout=1.0)

    async def relay_once(self) -> int:
        """Delete the rows handed over and published since the last round, then publish what the outbox
        holds, oldest first. Those rows are deleted in the transaction that publishes them: a failed publish
        rolls the delete back."""
        await self.delete_published()
        async with transaction(self.pool) as conn:
            rows = await conn.fetch(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                "WHERE NOT handed_over OR created_at < now() - make_interval(secs => $2) "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, event_id, subject, payload, headers",
                RELAY_BATCH, HANDOVER_GRACE_S,
            )
            if not rows:
                return 0
            rows = sorted(rows, key=lambda row: row["id"])
            await self._publish([(row["event_id"], row["subject"], row["payload"], row["headers"]) for row in rows])
        self.published += len(rows)
        return len(rows)

    async def _publish(self, rows: list[OutboxRow]) -> None:
        acks = [await self.bus.js.publish_async(subject, payload, headers=headers)
                for _, subject, payload, headers in rows]
        # a PubAck lost with a restarting server never comes: give up and publish again (de-duplicated)
        await asyncio.wait_for(asyncio.gather(*acks), timeout=PUBLISH_ACK_TIMEOUT_S)
        crash_point(self.bus.settings, "outbox.after_publish")

    @contextlib.asynccontextmanager
    async def transaction(self, *, atomic: bool = True) -> AsyncIterator[asyncpg.Connection]:
        """A transaction whose events this process publishes right after its commit (in a task of its own),
        in place of the relay loop: a notification and three round trips fewer per transaction, and the
        events reach the bus a hop sooner. What it cannot publish (the bus away, a crash) the loop takes after
        `HANDOVER_GRACE_S`. Handed over are the events `add_events` writes on this transaction's connection,
        and all of them: no savepoint inside it may roll back an `add_events`. With `atomic=False`, for a
        caller whose one statement writes its rows and their events, no transaction block is opened."""
        async with transaction(self.pool, atomic=atomic) as conn:
            handover = _Handover(conn)
            token = _handover.set(handover)
            try:
                yield conn
            finally:
                _handover.reset(token)
        if handover.rows:  # in the background: the caller (an HTTP answer, a batch's ack) waits for the commit only
            task = asyncio.create_task(self.publish_committed(handover.rows))
            self._handovers.add(task)
            task.add_done_callback(self._handovers.discard)

    async def handovers_done(self, timeout: float | None = None) -> None:
        """Until the events handed over so far are published (or left to the loop)."""
        if self._handovers:
            await asyncio.wait(set(self._handovers), timeout=timeout)

    async def publish_committed(self, rows: list[OutboxRow]) -> None:
        """Publish committed outbox rows; the relay loop deletes them at its next round (within a second).
        On failure they stay for the relay loop to publish."""
        try:
            await self._publish(rows)
        except Exception as exc:  # noqa: BLE001 - committed: the relay loop publishes them after the grace
            log.warning("handed-over events left to the outbox relay", events=len(rows), error=str(exc))
            return
        self._published_ids.extend(row[0] for row in rows)
        self.published += len(rows)

    async def delete_published(self) -> None:
        """Delete the outbox rows handed over and published so far, in one statement."""
        ids, self._published_ids = self._published_ids, []
        if not ids:
            return
        try:
            await self.pool.execute("DELETE FROM outbox WHERE event_id = ANY($1::text[])", ids)
        except BaseException:
            self._published_ids.extend(ids)
            raise
