"""EventSettler in isolation: the messages of one fetch are one batch, acked after it is processed; an
invalid one is dead-lettered; a failing batch is retried event by event; log lines carry the batch's or
the event's ids."""

import structlog
from structlog.testing import capture_logs

from shared.bus import EventSettler, Unprocessable
from tests.fakes import Bus, Message, parse

log = structlog.get_logger()


def _settler(process, bus: Bus | None = None) -> EventSettler:
    bus = bus or Bus()
    return EventSettler(bus_of=lambda: bus, durable="test-consumer", process=process, parse=parse)


async def test_messages_fetched_together_are_one_batch_and_acked_after_it():
    batches = []

    async def process(events):
        batches.append([e.id for e in events])
        log.info("processed")

    messages = [Message(n) for n in range(5)]
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        outcome = await _settler(process).settle(messages)
    assert (outcome.processed, outcome.dead_lettered) == (5, 0)
    assert batches == [[f"evt-{n}" for n in range(5)]]
    assert all(m.acked for m in messages)
    [line] = [entry for entry in logs if entry["event"] == "processed"]
    assert line["consumer"] == "test-consumer" and line["batch_size"] == 5
    assert line["event_ids"] == [f"evt-{n}" for n in range(5)]


async def test_a_failing_batch_is_retried_event_by_event_with_each_events_ids_in_its_logs():
    async def process(events):
        log.info("processing", count=len(events))
        if any(e.id == "evt-2" for e in events):
            raise ValueError("evt-2 cannot be processed")

    messages = [Message(n) for n in range(4)]
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        outcome = await _settler(process).settle(messages)
    assert (outcome.processed, outcome.retried) == (3, 1)
    assert [m.acked for m in messages] == [True, True, False, True]
    assert messages[2].nak_delay is not None
    alone = [entry for entry in logs if entry["event"] == "processing" and entry["count"] == 1]
    assert sorted(entry["event_id"] for entry in alone) == [f"evt-{n}" for n in range(4)]
    assert all("event_ids" not in entry and entry["contribution_id"] == entry["event_id"].replace("evt", "ctb")
               for entry in alone)



async def test_an_invalid_message_is_dead_lettered_with_its_reason_and_the_others_processed():
    batches = []

    async def process(events):
        batches.append([e.id for e in events])

    bus = Bus()
    messages = [Message(0), Message(1), Message(2)]
    messages[1].data = b"garbage"
    outcome = await _settler(process, bus).settle(messages)
    assert batches == [["evt-0", "evt-2"]]
    assert all(m.acked for m in messages)
    assert (outcome.processed, outcome.dead_lettered) == (2, 1)
    [(data, reason)] = bus.dead_letters
    assert data == b"garbage" and reason.startswith("invalid event:") and "not an event" in reason


async def test_an_unprocessable_event_is_dead_lettered_at_its_first_delivery_and_a_failing_one_retried():
    async def process(events):
        if any(e.id == "evt-1" for e in events):
            raise Unprocessable("axis 'x' is not an axis of this framework")
        if any(e.id == "evt-2" for e in events):
            raise ValueError("not known yet")

    bus = Bus()
    messages = [Message(0), Message(1), Message(2)]
    outcome = await _settler(process, bus).settle(messages)
    assert (outcome.processed, outcome.dead_lettered, outcome.retried) == (1, 1, 1)
    assert bus.dead_letters == [(b"1", "unprocessable: axis 'x' is not an axis of this framework")]
    assert messages[1].acked and not messages[2].acked and messages[2].nak_delay is not None
