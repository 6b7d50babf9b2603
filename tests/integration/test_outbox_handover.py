"""The outbox hand-over on a real PostgreSQL and JetStream: a transaction opened with
`OutboxRelay.transaction()` publishes its events right after the commit without waking the relay loop
(whose next round deletes them);
other transactions (another connection's too) still wake it; what the writer could not publish, the loop
publishes once the grace has passed, not before; a failed transaction publishes nothing."""

import asyncio
import contextlib
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import asyncpg

from shared.db import create_pool, transaction
from shared.events import EventData
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, add_events

INTAKE_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "intake" / "migrations"


class Probe(EventData):
    event_type: ClassVar[str] = "test.outbox-probe.v1"
    subject_prefix: ClassVar[str] = "test.outbox-probe"
    subject: str
    n: int

    def bus_subject(self) -> str:
        return self.subject


async def _stream_count(js, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


async def _handover(stack) -> None:
    tag = secrets.token_hex(4)
    schema, stream, late_stream = f"test_handover_{tag}", f"TEST_HANDOVER_{tag}", f"TEST_HANDOVER_LATE_{tag}"
    subject, late_subject = f"test.handover.{tag}.x", f"test.handover-late.{tag}.x"
    await upgrade(stack.database_url, schema, INTAKE_MIGRATIONS)  # an outbox as the services have it
    admin = await asyncpg.connect(stack.database_url)
    notified: list[str] = []
    await admin.add_listener(f"{schema}_outbox", lambda *args: notified.append(args[-1]))
    nc = await stack.nats_connect()
    js = nc.jetstream(timeout=5)
    await js.add_stream(name=stream, subjects=[subject])
    pool = await create_pool(stack.database_url, schema, max_size=3)
    relay = OutboxRelay(pool, SimpleNamespace(js=js, settings=SimpleNamespace(crash_point=None)), schema)
    try:
        async with relay.transaction() as conn:
            await add_events(conn, [(Probe(subject=subject, n=1), None), (Probe(subject=subject, n=2), None)],
                             source="test")
            assert await _stream_count(js, stream) == 0, "nothing is published before the commit"
        await relay.handovers_done()
        assert await _stream_count(js, stream) == 2, "published right after the commit"
        await asyncio.sleep(0.5)
        assert notified == [], "a handed-over insert wakes no relay"
        assert await relay.relay_once() == 0, "the loop's next round publishes nothing again"
        assert await _stream_count(js, stream) == 2
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0, "and deletes what was published"

        async with transaction(pool) as conn:
            await add_events(conn, [(Probe(subject=subject, n=3), None)], source="test")
        await asyncio.sleep(0.5)
        assert len(notified) == 1, "another writer's insert wakes the relay"
        assert await relay.relay_once() == 1
        assert await _stream_count(js, stream) == 3
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

        # the writer cannot publish (no stream takes the subject yet): the committed row stays for the loop
        async with relay.transaction() as conn:
            await add_events(conn, [(Probe(subject=late_subject, n=4), None)], source="test")
        await relay.handovers_done()
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE handed_over") == 1
        await js.add_stream(name=late_stream, subjects=[late_subject])
        assert await relay.relay_once() == 0, "within the grace the row is still its writer's"
        await pool.execute("UPDATE outbox SET created_at = now() - interval '1 minute'")
        assert await relay.relay_once() == 1, "past the grace the loop publishes it"
        assert await _stream_count(js, late_stream) == 1
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

        # inside a hand-over transaction, what another connection's transaction writes is not handed over
        async with relay.transaction(), transaction(pool) as other:
            await add_events(other, [(Probe(subject=subject, n=5), None)], source="test")
        await relay.handovers_done()
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE NOT handed_over") == 1
        assert await relay.relay_once() == 1
        assert await _stream_count(js, stream) == 4

        # a transaction that fails publishes nothing and leaves nothing
        try:
            async with relay.transaction() as conn:
                await add_events(conn, [(Probe(subject=subject, n=6), None)], source="test")
                raise RuntimeError("the state change failed")
        except RuntimeError:
            pass
        await relay.handovers_done()
        assert await _stream_count(js, stream) == 4
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await pool.close()
        for name in (stream, late_stream):
            with contextlib.suppress(Exception):  # the late stream does not exist if the test failed early
                await js.delete_stream(name)
        await nc.close()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def test_handed_over_events_are_published_after_the_commit_and_leftovers_by_the_relay(stack):
    asyncio.run(_handover(stack))
