"""`PullConsumer` against a real nats-server: what is waiting is taken in batches of at most `batch_size`,
every message is settled and acked once, messages arriving one at a time are each settled, a consumer
deleted under it is bound again, and the loop ends when asked to stop."""

import asyncio

import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from shared.bus import BatchOutcome, ConnectionWatch, PullConsumer, StreamSpec, connect_nats
from palabre.embedded import NatsServer, free_port
from shared.settings import Settings
from tests.harness import async_wait_for

STREAM = StreamSpec("PULL_TEST", ["pulltest.>"], "PullConsumer test stream")


@pytest.fixture
async def nats_js(tmp_path):
    server = NatsServer(tmp_path / "nats", port=free_port(), monitor_port=None).start()
    settings = Settings(nats_url=server.url)
    nc = await connect_nats(settings, ConnectionWatch("pull-test"))
    js = nc.jetstream()
    await js.add_stream(name=STREAM.name, subjects=STREAM.subjects)
    yield settings, js
    await nc.close()
    server.stop(kill=True)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []

    async def settle(self, messages) -> BatchOutcome:
        self.batches.append([m.data for m in messages])
        await asyncio.gather(*(m.ack() for m in messages))
        return BatchOutcome(processed=len(messages))

    @property
    def seen(self) -> list[bytes]:
        return [data for batch in self.batches for data in batch]


async def idle(js, durable: str) -> bool:
    try:
        info = await js.consumer_info(STREAM.name, durable)
    except NotFoundError:  # not bound yet
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_waiting_messages_are_settled_in_batches_each_once(nats_js):
    settings, js = nats_js
    for number in range(120):
        await js.publish("pulltest.a", str(number).encode())
    recorder = Recorder()
    consumer = PullConsumer("pulltest.>", "pull-test", STREAM, 50, recorder.settle)
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(js, settings, stopping))
    try:
        await async_wait_for(lambda: idle(js, "pull-test"), what="every message settled and acked")
        assert sorted(recorder.seen, key=int) == [str(n).encode() for n in range(120)]
        # what waited was taken together, never more than the batch size at once (how many a fetch finds
        # within its few milliseconds depends on the machine's load, so not exactly 50)
        assert max(len(batch) for batch in recorder.batches) <= 50
        assert len(recorder.batches) < 120
        for number in (120, 121):  # arriving one at a time while the consumer waits
            await js.publish("pulltest.a", str(number).encode())
            await async_wait_for(lambda n=number: _true(str(n).encode() in recorder.seen), timeout=10,
                                 what=f"message {number} settled on its own")
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)  # the loop ends by itself once asked to stop
    assert len(recorder.seen) == len(set(recorder.seen)) == 122


async def test_a_batch_that_fails_to_settle_is_not_acked_and_comes_back(nats_js):
    settings, js = nats_js
    await js.publish("pulltest.b", b"once-failing")
    attempts = []

    async def settle(messages) -> BatchOutcome:
        attempts.append([m.data for m in messages])
        if len(attempts) == 1:
            raise RuntimeError("the database went away")
        await asyncio.gather(*(m.ack() for m in messages))
        return BatchOutcome(processed=len(messages))

    consumer = PullConsumer("pulltest.b", "pull-test-b", STREAM, 10, settle)
    # the consumer exists already, with a short ack_wait: the loop binds to it as it is
    await js.add_consumer(STREAM.name, ConsumerConfig(durable_name="pull-test-b", filter_subject="pulltest.b",
                                                      ack_policy=AckPolicy.EXPLICIT, ack_wait=2))
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(js, settings, stopping))
    try:
        await async_wait_for(lambda: idle(js, "pull-test-b"), timeout=30, what="the message redelivered and acked")
        assert attempts == [[b"once-failing"], [b"once-failing"]]
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)


async def test_a_consumer_deleted_under_the_loop_is_bound_again(nats_js):
    settings, js = nats_js
    recorder = Recorder()
    consumer = PullConsumer("pulltest.c", "pull-test-c", STREAM, 10, recorder.settle)
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(js, settings, stopping))
    try:
        await js.publish("pulltest.c", b"before")
        await async_wait_for(lambda: _true(b"before" in recorder.seen), what="the first message settled")
        await js.delete_consumer(STREAM.name, "pull-test-c")
        await asyncio.sleep(1.5)  # the loop's fetch is refused, then it binds again (creating the consumer)
        await js.publish("pulltest.c", b"after")
        await async_wait_for(lambda: _true(b"after" in recorder.seen), timeout=20,
                             what="a message settled after the consumer was deleted")
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)


async def _true(value: bool) -> bool:
    return value
