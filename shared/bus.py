"""JetStream set-up in one place: streams, durable consumers, publishing, dead letters.

The discipline every consumer follows (see `consume_batch`):
- events are parsed and validated; one that does not parse goes to the dead-letter stream with its reason;
- a batch is processed in one database transaction, which also records the processed event ids and the
  outgoing events (outbox); the messages are acked only after that transaction has committed;
- a failing batch is retried event by event, so that one poison event cannot hold back the others;
  a failing event is nak'ed with a growing delay and dead-lettered after `max_deliver` attempts.
"""

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from nats.js.api import ConsumerConfig
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy as JsAckPolicy,
)
from nats.js.api import (
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from shared.events import CloudEvent, parse_event
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    description: str
    max_age_s: int = 0  # 0: kept until limits
    max_msgs: int = -1


EVENTS_STREAM = StreamSpec(
    "PALABRE_EVENTS",
    [
        "palabre.contribution.>",
        "palabre.territory.>",
        "palabre.consultation.>",
        "palabre.synthesis.>",
    ],
    "Every domain event of the network",
)
INTAKE_STREAM = StreamSpec(
    "PALABRE_INTAKE", ["palabre.intake.>"], "Contributions proposed by territory systems on the bus"
)
DEAD_LETTER_STREAM = StreamSpec(
    "PALABRE_DLQ", ["palabre.dlq.>"], "Events that could not be processed, with their reason"
)
STREAMS = [EVENTS_STREAM, INTAKE_STREAM, DEAD_LETTER_STREAM]

DLQ_REASON = "Palabre-Dlq-Reason"
DLQ_SUBJECT = "Palabre-Dlq-Subject"
DLQ_CONSUMER = "Palabre-Dlq-Consumer"
DLQ_DELIVERIES = "Palabre-Dlq-Deliveries"
CONTRIBUTION_HEADER = "Palabre-Contribution-Id"
MSG_ID_HEADER = "Nats-Msg-Id"


def nats_servers(settings: Settings) -> list[str]:
    """The servers of PALABRE_NATS_URL (comma-separated); a local server when it is unset."""
    urls = settings.nats_url or "nats://127.0.0.1:4222"
    return [url.strip() for url in urls.split(",") if url.strip()]


async def declare_streams(js: JetStreamContext, settings: Settings) -> None:
    """Create or update every stream; safe to run from every replica at every start."""
    for spec in STREAMS:
        config = StreamConfig(
            name=spec.name,
            subjects=spec.subjects,
            description=spec.description,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            num_replicas=settings.stream_replicas,
            duplicate_window=float(settings.duplicate_window_s),
            max_age=float(spec.max_age_s),
            max_msgs=spec.max_msgs,
        )
        try:
            await js.stream_info(spec.name)
            await js.update_stream(config)
        except NotFoundError:
            with contextlib.suppress(Exception):
                await js.add_stream(config)
            await js.stream_info(spec.name)


def consumer_config(durable: str, settings: Settings, *, ack_wait_s: float = 30.0) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_deliver=settings.max_deliver,
        max_ack_pending=20_000,
    )


def jstream(spec: StreamSpec) -> JStream:
    """The stream as FastStream sees it; declared by `declare_streams`, never by FastStream."""
    return JStream(spec.name, subjects=spec.subjects, declare=False)


def batch_subscriber(
    broker: NatsBroker,
    subject: str,
    durable: str,
    settings: Settings,
    *,
    stream: StreamSpec = EVENTS_STREAM,
    batch_size: int | None = None,
    title: str | None = None,
    description: str | None = None,
):
    """A durable pull consumer handing batches to its handler, acked by hand after the commit."""
    return broker.subscriber(
        subject,
        stream=jstream(stream),
        durable=durable,
        config=consumer_config(durable, settings),
        pull_sub=PullSub(batch_size=batch_size or settings.batch_size, timeout=0.5, batch=True),
        ack_policy=AckPolicy.MANUAL,
        title=title,
        description=description,
    )


def crash_point(settings: Settings, name: str) -> None:
    """Fault injection for the resilience tests: die at this point, as a `kill -9` would."""
    if settings.crash_point == name:
        log.warning("crash point reached, exiting", crash_point=name)
        os._exit(137)


def retry_delay_s(deliveries: int) -> float:
    """Back-off for a nak: 1 s, 2 s, 4 s... capped at 60 s."""
    return float(min(60, 2 ** max(0, deliveries - 1)))


@dataclass
class Bus:
    """A plain nats-py connection for what is not a subscriber: outbox relay, dead letters, admin."""

    nc: nats.NATS
    js: JetStreamContext
    settings: Settings
    service: str

    @classmethod
    async def connect(cls, settings: Settings, service: str) -> "Bus":
        nc = await nats.connect(
            servers=nats_servers(settings),
            name=f"palabre-{service}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        js = nc.jetstream(timeout=10)
        return cls(nc=nc, js=js, settings=settings, service=service)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.nc.drain()

    async def dead_letter(self, msg: Any, durable: str, reason: str) -> None:
        """Keep a message that cannot be processed, with why, in the dead-letter stream."""
        meta = msg.metadata
        headers = {
            MSG_ID_HEADER: f"dlq/{durable}/{meta.stream}/{meta.sequence.stream}",
            DLQ_REASON: reason[:2000].replace("\r", " ").replace("\n", " "),
            DLQ_SUBJECT: msg.subject,
            DLQ_CONSUMER: durable,
            DLQ_DELIVERIES: str(meta.num_delivered),
        }
        await self.js.publish(f"palabre.dlq.{durable}", msg.data, headers=headers)
        log.warning("event dead-lettered", consumer=durable, subject=msg.subject, reason=reason[:300])


@dataclass
class BatchOutcome:
    processed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)


Parser = Callable[[bytes], Any]


async def consume_batch(
    raw_messages: Sequence[Any],
    *,
    bus: Bus,
    durable: str,
    process: Callable[[list[Any]], Awaitable[None]],
    parse: Parser = parse_event,
) -> BatchOutcome:
    """Validate, process and ack one batch of JetStream messages (see the module docstring)."""
    outcome = BatchOutcome()
    parsed: list[tuple[Any, Any]] = []
    for msg in raw_messages:
        try:
            parsed.append((msg, parse(msg.data)))
        except (ValidationError, ValueError) as exc:
            await bus.dead_letter(msg, durable, f"invalid event: {_short(exc)}")
            await msg.ack()
            outcome.dead_lettered += 1
    if not parsed:
        return outcome
    try:
        await process([event for _, event in parsed])
    except Exception as batch_exc:  # noqa: BLE001 - isolate the failing event below
        log.warning("batch failed, retrying event by event", consumer=durable, error=_short(batch_exc))
        for msg, event in parsed:
            with structlog.contextvars.bound_contextvars(event_id=_event_id(event)):
                try:
                    await process([event])
                except Exception as exc:  # noqa: BLE001
                    await _nak_or_dead_letter(msg, bus, durable, exc, outcome)
                    continue
                crash_point(bus.settings, "consumer.after_commit")
                await msg.ack()
                outcome.processed += 1
        return outcome
    crash_point(bus.settings, "consumer.after_commit")
    await asyncio.gather(*(msg.ack() for msg, _ in parsed))
    outcome.processed += len(parsed)
    return outcome


async def _nak_or_dead_letter(msg: Any, bus: Bus, durable: str, exc: Exception, outcome: BatchOutcome) -> None:
    deliveries = msg.metadata.num_delivered
    if deliveries >= bus.settings.max_deliver:
        await bus.dead_letter(msg, durable, f"failed {deliveries} times: {_short(exc)}")
        await msg.ack()
        outcome.dead_lettered += 1
    else:
        log.warning("event failed, will retry", consumer=durable, deliveries=deliveries, error=_short(exc))
        await msg.nak(delay=retry_delay_s(deliveries))
        outcome.retried += 1
    outcome.errors.append(_short(exc))


def _event_id(event: Any) -> str | None:
    return getattr(event, "id", None)


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 1500 else text[:1500] + "…"


def event_headers(event: CloudEvent[Any]) -> dict[str, str]:
    headers = {MSG_ID_HEADER: event.id}
    contribution_id = getattr(event.data, "contribution_id", None)
    if contribution_id:
        headers[CONTRIBUTION_HEADER] = contribution_id
    return headers
