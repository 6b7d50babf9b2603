"""An outage of the database or the bus is never an event's fault: the consumer holds the messages of
its batch, fetches nothing more, keeps them in progress, and settles them once the outage is over; no
message is nak'ed or dead-lettered for it. Only an event that is itself bad is dead-lettered."""

import asyncio
from types import SimpleNamespace

import asyncpg
import nats
import pytest

from shared import bus as bus_module
from shared.bus import (
    REPLAY_FOR,
    BatchOutcome,
    EventSettler,
    InfrastructureUnavailable,
    PullConsumer,
    StreamSpec,
    Unprocessable,
    not_the_events_fault,
)
from tests.fakes import Bus, Message, parse


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"),
    FileNotFoundError(2, "No such file or directory"),  # a stopped PostgreSQL's Unix socket
    TimeoutError(),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("pool is closing"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.DeadlockDetectedError("deadlock detected"),
    nats.errors.ConnectionClosedError(),
    nats.errors.TimeoutError(),
])
def test_errors_of_the_database_and_the_bus_are_not_the_events_fault(error):
    assert not_the_events_fault(error)
    try:
        try:
            raise error
        except Exception as exc:
            raise RuntimeError("while applying the batch") from exc
    except RuntimeError as wrapped:
        assert not_the_events_fault(wrapped)


@pytest.mark.parametrize("error", [
    ValueError("no such axis"),
    KeyError("territory"),
    asyncpg.UniqueViolationError("duplicate key"),
    asyncpg.NotNullViolationError("null value in column"),
    Unprocessable("names no axis of the framework"),
])
def test_errors_of_the_event_itself_are_its_fault(error):
    assert not not_the_events_fault(error)


def test_an_unprocessable_event_stays_unprocessable_whatever_caused_it():
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError as exc:
            raise Unprocessable("bad") from exc
    except Unprocessable as raised:
        assert not not_the_events_fault(raised)


async def test_a_batch_failing_on_the_database_is_neither_naked_nor_dead_lettered():
    bus = Bus()

    async def process(events):
        raise ConnectionRefusedError(111, "Connection refused")

    messages = [Message(n) for n in range(3)]
    with pytest.raises(InfrastructureUnavailable):
        await EventSettler(bus_of=lambda: bus, durable="c", process=process, parse=parse).settle(messages)
    assert not bus.dead_letters
    assert not any(m.is_acked for m in messages) and all(m.nak_delay is None for m in messages)


async def test_an_outage_while_events_are_retried_one_by_one_leaves_the_rest_in_hand():
    bus = Bus()

    async def process(events):
        ids = [e.id for e in events]
        if len(ids) > 1:
            raise ValueError("evt-0 is bad")
        if ids == ["evt-0"]:
            raise ValueError("evt-0 is bad")
        if ids == ["evt-2"]:
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    messages = [Message(n) for n in range(4)]
    with pytest.raises(InfrastructureUnavailable):
        await EventSettler(bus_of=lambda: bus, durable="c", process=process, parse=parse).settle(messages)
    assert messages[0].nak_delay is not None  # its own fault: retried later
    assert messages[1].is_acked and messages[1].nak_delay is None  # processed
    assert not messages[2].is_acked and not messages[3].is_acked  # in hand for after the outage
    assert not bus.dead_letters


class Subscription:
    """Gives one batch, then nothing; counts the fetches."""

    def __init__(self, batch: list[Message]) -> None:
        self.batches = [batch]
        self.fetches = 0

    async def fetch(self, n: int, timeout: float):
        self.fetches += 1
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(min(timeout, 0.01))
        raise nats.errors.TimeoutError()


async def test_the_consumer_stops_fetching_and_holds_its_batch_until_the_database_is_back(monkeypatch):
    monkeypatch.setattr(bus_module, "OUTAGE_FIRST_WAIT_S", 0.01)
    monkeypatch.setattr(bus_module, "OUTAGE_MAX_WAIT_S", 0.04)
    bus = Bus()
    database_up = asyncio.Event()
    attempts = []
    processed = []

    async def process(events):
        attempts.append(len(events))
        if not database_up.is_set():
            raise OSError(111, "Connect call failed")
        processed.extend(e.id for e in events)

    batch = [Message(n) for n in range(5)]
    subscription = Subscription(batch)
    settler = EventSettler(bus_of=lambda: bus, durable="c", process=process, parse=parse)
    outcomes: list[BatchOutcome] = []
    consumer = PullConsumer("palabre.test", "c", StreamSpec("S", ["palabre.test"], ""), 1, settler.settle,
                            on_settled=lambda outcome, *_: outcomes.append(outcome))
    js = SimpleNamespace(pull_subscribe=lambda *a, **k: _return(subscription))
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(js, SimpleNamespace(max_deliver=5, ack_wait_s=30.0), stopping))
    while len(attempts) < 8:  # tried again and again during the outage
        await asyncio.sleep(0.01)
    assert subscription.fetches == 1  # nothing more fetched while the database is away
    assert all(m.in_progress_calls >= 2 for m in batch)  # kept from redelivery meanwhile
    assert not any(m.is_acked for m in batch) and not bus.dead_letters
    database_up.set()
    while not all(m.is_acked for m in batch):
        await asyncio.sleep(0.01)
    stopping.set()
    await task
    assert processed == [f"evt-{n}" for n in range(5)]
    assert all(m.nak_delay is None for m in batch) and not bus.dead_letters
    assert outcomes[0].processed == 5
    assert subscription.fetches > 1  # fetching again once the batch was settled


async def test_a_replayed_dead_letter_is_taken_only_by_the_consumer_it_is_for():
    bus = Bus()
    seen = []

    async def process(events):
        seen.extend(e.id for e in events)

    batch = [Message(1, {REPLAY_FOR: "other-consumer"}), Message(2, {REPLAY_FOR: "c"}), Message(3)]
    subscription = Subscription(batch)
    settler = EventSettler(bus_of=lambda: bus, durable="c", process=process, parse=parse)
    consumer = PullConsumer("palabre.test", "c", StreamSpec("S", ["palabre.test"], ""), 10, settler.settle)
    js = SimpleNamespace(pull_subscribe=lambda *a, **k: _return(subscription))
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(js, SimpleNamespace(max_deliver=5, ack_wait_s=30.0), stopping))
    while not all(m.is_acked for m in batch):
        await asyncio.sleep(0.01)
    stopping.set()
    await task
    assert seen == ["evt-2", "evt-3"]


async def _return(value):
    return value
