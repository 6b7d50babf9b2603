"""Transactional outbox: outgoing events are committed with the state change, then relayed.

A service writes its events with `add_events` inside the transaction that changes its state. The relay
publishes them to JetStream with `Nats-Msg-Id` = the CloudEvent id and deletes them once JetStream has
acknowledged. A crash between the publish and the delete re-publishes on restart; JetStream's duplicate
window and the consumers' processed-event records make that second publish a no-op.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import asyncpg

from shared.bus import Bus, crash_point, event_headers
from shared.db import Wakeup, bulk_insert
from shared.events import CloudEvent, EventData, envelope
from shared.logging import get_logger

log = get_logger(__name__)

RELAY_BATCH = 1000
PUBLISH_ACK_TIMEOUT_S = 10.0
OUTBOX_COLUMNS = (("event_id", "text"), ("subject", "text"), ("payload", "bytea"), ("headers", "jsonb"))


async def add_events(
    conn: asyncpg.Connection,
    events: Iterable[tuple[EventData, str | None]],
    *,
    source: str,
) -> list[CloudEvent[Any]]:
    """Queue events (payload, deterministic id or None) in the outbox, inside the caller's transaction."""
    envelopes = [envelope(data, source=source, event_id=event_id) for data, event_id in events]
    if not envelopes:
        return envelopes
    # one statement: one notification trigger and one execution, however many events
    await bulk_insert(conn, "outbox", OUTBOX_COLUMNS, [
        (ce.id, ce.data.bus_subject(), ce.model_dump_json().encode(), event_headers(ce)) for ce in envelopes
    ], suffix="ON CONFLICT (event_id) DO NOTHING")
    return envelopes


class OutboxRelay:
    """Publishes what the outbox holds; several replicas share the work with SKIP LOCKED."""

    def __init__(self, pool: asyncpg.Pool, bus: Bus, schema: str) -> None:
        self.pool = pool
        self.bus = bus
        self._wakeup = Wakeup(pool, f"{schema}_outbox")
        self._task: asyncio.Task | None = None
        self.published = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._wakeup.channel}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
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
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, event_id, subject, payload, headers FROM outbox "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                RELAY_BATCH,
            )
            if not rows:
                return 0
            acks = [
                await self.bus.js.publish_async(row["subject"], row["payload"], headers=row["headers"])
                for row in rows
            ]
            # a PubAck lost with a restarting server never comes: give up and publish again (de-duplicated)
            await asyncio.wait_for(asyncio.gather(*acks), timeout=PUBLISH_ACK_TIMEOUT_S)
            crash_point(self.bus.settings, "outbox.after_publish")
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [row["id"] for row in rows])
        self.published += len(rows)
        return len(rows)
