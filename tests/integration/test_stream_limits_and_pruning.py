"""What grows is bounded: the streams carry their limits (refusing new messages when full rather than
dropping ones a consumer may not have taken), and processed-event records older than the de-duplication
horizon are pruned, the recent ones kept."""

from nats.js.api import DiscardPolicy

from shared.bus import DEAD_LETTER_STREAM, EVENTS_STREAM, INTAKE_STREAM
from shared.db import create_pool, processed_events_horizon_s, prune_processed_events
from shared.settings import Settings


async def test_streams_are_declared_with_their_limits(stack):
    nc = await stack.nats_connect()
    js = nc.jetstream()
    default_age = Settings().stream_max_age_s
    for spec, age in ((EVENTS_STREAM, default_age), (INTAKE_STREAM, default_age), (DEAD_LETTER_STREAM, 90 * 86400)):
        config = (await js.stream_info(spec.name)).config
        assert config.max_age == age and config.max_bytes == spec.max_bytes > 0
        assert config.discard == DiscardPolicy.NEW
    await nc.close()


async def test_processed_event_records_beyond_the_horizon_are_pruned_and_recent_ones_kept(stack):
    pool = await create_pool(stack.database_url, "notifications", max_size=2)
    horizon_s = processed_events_horizon_s(Settings().stream_max_age_s)
    try:
        await pool.execute(
            "INSERT INTO processed_events (consumer, event_id, processed_at) "
            "SELECT 'prune-test', 'old-' || n, now() - make_interval(secs => $1 + n) FROM generate_series(1, 25000) n",
            float(horizon_s))
        await pool.execute(
            "INSERT INTO processed_events (consumer, event_id, processed_at) "
            "SELECT 'prune-test', 'recent-' || n, now() - make_interval(secs => $1 - 3600) FROM generate_series(1, 10) n",
            float(horizon_s))
        deleted = await prune_processed_events(pool, horizon_s)
        left = await pool.fetch("SELECT event_id FROM processed_events WHERE consumer = 'prune-test' ORDER BY 1")
        assert deleted == 25000  # in three batches
        assert [row["event_id"] for row in left] == sorted(f"recent-{n}" for n in range(1, 11))
    finally:
        await pool.execute("DELETE FROM processed_events WHERE consumer = 'prune-test'")
        await pool.close()
