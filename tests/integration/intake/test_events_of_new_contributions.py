"""Intake writes new contributions and their events in one statement, on a real PostgreSQL: a contribution
already stored (a re-send) gets no event written again, so nothing is published twice."""

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import ClassVar

import asyncpg

from services.intake import store
from shared.db import create_pool, transaction
from shared.events import EventData, utcnow
from shared.migrations import upgrade
from shared.outbox import outbox_insert

INTAKE_MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "intake" / "migrations"


class Probe(EventData):
    event_type: ClassVar[str] = "test.intake-probe.v1"
    subject_prefix: ClassVar[str] = "test.intake-probe"
    n: int

    def bus_subject(self) -> str:
        return f"{self.subject_prefix}.{self.n}"


async def _sent_twice(stack) -> None:
    schema = f"test_intake_events_{secrets.token_hex(4)}"
    await upgrade(stack.database_url, schema, INTAKE_MIGRATIONS)
    pool = await create_pool(stack.database_url, schema, max_size=2)
    row = store.ContributionRow(
        id=str(uuid.uuid4()), territory="events-t", external_id="e-1", consultation="events-c", axis=None,
        kind=None, author_role=None, channel=None, language="fr", title=None, body="Un texte.",
        submitted_at=utcnow(), author_ref=None)
    try:
        inserted = []
        for attempt in range(2):  # each attempt with an event id of its own: only the filter can leave it out
            async with transaction(pool) as conn:
                events, _ = outbox_insert(conn, [(Probe(n=attempt), None)], source="test")
                inserted.append(await store.insert_contributions(conn, [row], events))
        assert inserted == [{row.id}, set()]
        assert await pool.fetchval("SELECT count(*) FROM contributions") == 1
        assert await pool.fetch("SELECT subject FROM outbox") == [("test.intake-probe.0",)]
    finally:
        await pool.close()
        admin = await asyncpg.connect(stack.database_url)
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def test_a_contribution_sent_again_gets_no_event_written_again(stack):
    asyncio.run(_sent_twice(stack))
