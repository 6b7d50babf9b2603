"""Stand-ins for the parts of a JetStream message and of `Bus` that the consumer loop uses, for unit tests
of `EventSettler` and `PullConsumer` without a broker."""

from types import SimpleNamespace

from shared.bus import CONTRIBUTION_HEADER, MSG_ID_HEADER


class Message:
    """Message `number`: its data is the number, its event id `evt-<number>`."""

    def __init__(self, number: int, headers: dict | None = None) -> None:
        self.data = str(number).encode()
        self.subject = "palabre.test"
        self.headers = {MSG_ID_HEADER: f"evt-{number}", CONTRIBUTION_HEADER: f"ctb-{number}", **(headers or {})}
        self.metadata = SimpleNamespace(num_delivered=1, stream="S", sequence=SimpleNamespace(stream=number))
        self.acked = False
        self.naked = False
        self.nak_delay: float | None = None
        self.in_progress_calls = 0

    @property
    def is_acked(self) -> bool:
        """As nats-py says it: settled one way or the other (acked or nak'ed)."""
        return self.acked or self.naked

    async def ack(self) -> None:
        assert not self.is_acked, "settled twice"
        self.acked = True

    async def nak(self, delay: float | None = None) -> None:
        assert not self.is_acked, "settled twice"
        self.naked, self.nak_delay = True, delay

    async def in_progress(self) -> None:
        self.in_progress_calls += 1


class Bus:
    """Its settings, and dead letters kept in a list."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(crash_point=None, max_deliver=5)
        self.dead_letters: list[tuple[bytes, str]] = []

    async def dead_letter(self, msg, durable: str, reason: str) -> None:
        self.dead_letters.append((msg.data, reason))


def parse(raw: bytes) -> SimpleNamespace:
    if not raw.isdigit():
        raise ValueError(f"not an event: {raw!r}")
    return SimpleNamespace(id=f"evt-{raw.decode()}")
