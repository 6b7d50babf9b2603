"""A consumer is declared by the events it takes: the runtime derives its subject filter and stream, and
dead-letters an event of a type it does not take (with the reason) instead of handing it to the decision."""

from pathlib import Path
from types import SimpleNamespace

from shared.events import (
    ConsultationClosed,
    ConsultationOpened,
    ContributionProposed,
    ContributionPublished,
    TerritoryRegistered,
    envelope,
)
from shared.service import ServiceRuntime
from shared.settings import Settings


class Message:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.subject = "palabre.contribution.published.fr.test"
        self.headers = {}
        self.metadata = SimpleNamespace(num_delivered=1)
        self.acked = False

    async def ack(self) -> None:
        self.acked = True


class Bus:
    settings = SimpleNamespace(crash_point=None, max_deliver=5)

    def __init__(self) -> None:
        self.dead_letters: list[tuple[str, str]] = []

    async def dead_letter(self, msg, durable: str, reason: str) -> None:
        self.dead_letters.append((durable, reason))


def _runtime() -> ServiceRuntime:
    return ServiceRuntime("test", Settings(nats_url="nats://127.0.0.1:4222"), title="t", description="d",
                          migrations=Path("unused"))


def test_the_filter_and_stream_come_from_the_events_declared():
    runtime = _runtime()
    for events, durable in (((ContributionPublished,), "a"), ((ConsultationOpened, ConsultationClosed), "b"),
                            ((ContributionProposed,), "c")):
        runtime.consumer(*events, durable=durable)(_never_called)
    found = {c.durable: (c.subject, c.stream.name) for c in runtime.consumers}
    assert found == {"a": ("palabre.contribution.published.>", "PALABRE_EVENTS"),
                     "b": ("palabre.consultation.>", "PALABRE_EVENTS"),
                     "c": ("palabre.intake.*", "PALABRE_INTAKE")}


async def test_an_event_of_a_type_the_consumer_does_not_take_is_dead_lettered():
    runtime = _runtime()
    runtime.bus = Bus()
    runtime.consumer(ContributionPublished, durable="test-published")(_never_called)
    territory = TerritoryRegistered(territory="t", country="FR", name="T", kind="commune")
    message = Message(envelope(territory, source="test").model_dump_json().encode())

    outcome = await runtime.consumers[0].settle([message])

    assert (outcome.processed, outcome.dead_lettered) == (0, 1)
    assert message.acked
    [(durable, reason)] = runtime.bus.dead_letters
    assert durable == "test-published"
    assert "palabre.territory.registered.v1" in reason and "test-published" in reason


async def _never_called(conn, payloads) -> None:
    raise AssertionError("the decision must not see this batch")
