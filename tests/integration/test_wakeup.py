"""`Wakeup` on a real PostgreSQL: a NOTIFY wakes the waiting loop at once, one that arrives while the loop
looks for work is kept, and the LISTEN comes back after its connection is lost (a database restart)."""

import asyncio
import secrets
import time

import asyncpg

from shared.db import Wakeup, create_pool
from tests.harness import async_wait_for

LONG = 30.0  # the fallback timeout: a wait that returns well before it was woken


async def _timed_wait(wakeup: Wakeup) -> float:
    started = time.monotonic()
    await wakeup.wait(LONG)
    return time.monotonic() - started


async def _wakeup_follows_notifications(database_url: str) -> None:
    channel = f"test_wakeup_{secrets.token_hex(4)}"
    pool = await create_pool(database_url, "public", max_size=3)
    other = await asyncpg.connect(database_url)
    wakeup = Wakeup(pool, channel)
    try:
        wakeup.clear()
        assert await _timed_wait(wakeup) < LONG / 2, "starting to listen looks once more"

        wakeup.clear()
        waiting = asyncio.create_task(_timed_wait(wakeup))
        await asyncio.sleep(0.2)
        await other.execute(f"NOTIFY {channel}")
        assert await waiting < LONG / 2, "a notification wakes the wait"

        wakeup.clear()  # the loop looks for work; meanwhile a notification arrives
        await other.execute(f"NOTIFY {channel}")
        await async_wait_for(lambda: _is_set(wakeup), what="the notification to arrive")
        assert await _timed_wait(wakeup) < LONG / 2, "a notification that came while looking is kept"

        listening_pid = wakeup._conn.get_server_pid()
        await other.execute("SELECT pg_terminate_backend($1)", listening_pid)
        await async_wait_for(lambda: _lost(wakeup), what="the listening connection to be lost")
        wakeup.clear()
        assert await _timed_wait(wakeup) < LONG / 2, "listening again looks once more"
        assert wakeup._conn.get_server_pid() != listening_pid

        wakeup.clear()
        waiting = asyncio.create_task(_timed_wait(wakeup))
        await asyncio.sleep(0.2)
        await other.execute(f"NOTIFY {channel}")
        assert await waiting < LONG / 2, "notifications wake it again after the connection was lost"
    finally:
        await wakeup.close()
        await other.close()
        await pool.close()


async def _is_set(wakeup: Wakeup) -> bool:
    return wakeup._event.is_set()


async def _lost(wakeup: Wakeup) -> bool:
    return not wakeup.listening


def test_a_wakeup_follows_notifications_and_survives_a_lost_connection(stack):
    asyncio.run(_wakeup_follows_notifications(stack.database_url))
