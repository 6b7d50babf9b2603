"""JetStream set-up in one place: streams, durable consumers, publishing, dead letters.

The discipline every consumer follows (see `EventBatcher`):
- events are parsed and validated; one that does not parse goes to the dead-letter stream with its reason;
- the events of one fetch are processed together in one database transaction, which also records the
  processed event ids and the outgoing events (outbox); they are acked only after that transaction commits;
- a failing batch is retried event by event, so that one poison event cannot hold back the others;
  a failing event is nak'ed with a growing delay and dead-lettered after `max_deliver` attempts.

FastStream's batch pull subscriber is not used: its collection loop keeps re-fetching with a shrinking
timeout, which leaves orphaned pull requests whose messages then wait for `ack_wait` before redelivery
(seen here as 30-second stalls under load). Its plain pull subscriber fetches up to `batch_size` messages
at once and hands each to the handler concurrently; `EventBatcher` gathers those concurrent calls back
into one batch.
"""

import asyncio
import contextlib
import contextvars
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import nats
import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsUserPassword, PullSub
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


@dataclass(frozen=True)
class NatsAddress:
    """Where the bus is and who the service is on it.

    The servers carry no credentials: the user and password go to the client as connection options, so
    that every server of its pool gets them. A cluster announces its other servers to a client, which adds
    them to its pool as bare addresses; with the credentials only in the configured URLs, a reconnection to
    an announced server went unauthenticated, the server refused it, and nats-py closed the connection
    for good (seen when a node of a three-node cluster was killed: one service stopped consuming)."""

    servers: list[str]
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, urls: str | None) -> "NatsAddress":
        """PALABRE_NATS_URL: comma-separated `nats://user:password@host:port`; a local server when unset."""
        servers, user, password = [], None, None
        for url in (urls or "nats://127.0.0.1:4222").split(","):
            if not url.strip():
                continue
            parts = urlsplit(url.strip())
            user, password = parts.username or user, parts.password or password
            servers.append(f"{parts.scheme}://{parts.hostname}:{parts.port or 4222}")
        return cls(servers, user, password)

    def connect_options(self) -> dict[str, Any]:
        """The keyword arguments of `nats.connect` (a user without a password is a token)."""
        if self.user and self.password:
            return {"servers": self.servers, "user": self.user, "password": self.password}
        if self.user:
            return {"servers": self.servers, "token": self.user}
        return {"servers": self.servers}


class ConnectionWatch:
    """Logs what happens to one NATS connection and says whether it can still be used.

    nats-py reconnects by itself after a lost server, but closes the connection for good on some errors
    (an authentication refused, for one); a consumer on a closed connection then fetches nothing without a
    word. The watch makes that loud: an error in the log and a failing `/healthz`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.connected = False
        self.closed_unexpectedly = False
        self.last_error: str | None = None
        self._closing = False

    def callbacks(self) -> dict[str, Callable[..., Awaitable[None]]]:
        return {"error_cb": self._on_error, "disconnected_cb": self._on_disconnected,
                "reconnected_cb": self._on_reconnected, "closed_cb": self._on_closed}

    def opened(self) -> None:
        self.connected = True

    def closing(self) -> None:
        """The service closes the connection itself: not a failure."""
        self._closing = True

    async def _on_error(self, exc: Exception) -> None:
        self.last_error = _short(exc)
        log.warning("bus connection error", connection=self.name, error=self.last_error)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            self.connected = False
            log.warning("bus connection lost, reconnecting", connection=self.name)

    async def _on_reconnected(self) -> None:
        self.connected = True
        log.info("bus connection restored", connection=self.name)

    async def _on_closed(self) -> None:
        self.connected = False
        if not self._closing:
            self.closed_unexpectedly = True
            log.error("bus connection closed for good; the service must be restarted", connection=self.name)


async def declare_streams(js: JetStreamContext, settings: Settings, *, attempts: int = 10) -> None:
    """Create or update every stream; safe to run from every replica at every start.

    On a cluster, creating a replicated stream waits for its servers to agree: while several services
    start at once, a request can time out. It is tried again rather than failing the start-up."""
    for attempt in range(1, attempts + 1):
        try:
            return await _declare_streams(js, settings)
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError) as exc:
            if attempt == attempts:
                raise
            log.warning("stream declaration timed out, trying again", attempt=attempt, error=_short(exc))
            await asyncio.sleep(min(5.0, attempt * 0.5))


async def _declare_streams(js: JetStreamContext, settings: Settings) -> None:
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


def make_broker(settings: Settings, service: str, watch: ConnectionWatch) -> NatsBroker:
    """The service's FastStream broker. Handlers take the NATS message as their one plain argument, so
    there is no dependency injection to resolve per message (it cost about a tenth of a consumer's CPU)."""
    address = NatsAddress.parse(settings.nats_url)
    return NatsBroker(
        address.servers,
        security=NatsUserPassword(address.user, address.password) if address.user and address.password else None,
        token=address.user if address.user and not address.password else None,
        name=f"palabre-{service}-consumers",
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        logger=None,
        apply_types=False,
        **watch.callbacks(),
    )


def jstream(spec: StreamSpec) -> JStream:
    """The stream as FastStream sees it; declared by `declare_streams`, never by FastStream."""
    return JStream(spec.name, subjects=spec.subjects, declare=False)


def pull_subscriber(
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
    """A durable pull consumer; messages are acked by hand (`AckPolicy.MANUAL`) after the commit."""
    return broker.subscriber(
        subject,
        stream=jstream(stream),
        durable=durable,
        config=consumer_config(durable, settings),
        pull_sub=PullSub(batch_size=batch_size or settings.batch_size, timeout=1.0),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_message,
        title=title,
        description=description,
    )


async def raw_message(message: Any) -> Any:
    """Hand the handler the NATS message itself: `EventBatcher` validates its bytes (and dead-letters what
    fails) and acks it. A plain body parameter also keeps FastStream's dependency injection off the
    per-message path: its custom fields (`Context`, `NoCast`) each cost a hop through a thread pool."""
    return message.raw_message


def crash_point(settings: Settings, name: str) -> None:
    """Fault injection for the resilience tests: die at this point, as a `kill -9` would."""
    if settings.crash_point == name:
        log.warning("crash point reached, exiting", crash_point=name)
        os._exit(137)


def retry_delay_s(deliveries: int) -> float:
    """Back-off for a nak: 1 s, 2 s, 4 s... capped at 60 s."""
    return float(min(60, 2 ** max(0, deliveries - 1)))


STARTUP_CONNECT_TIMEOUT_S = 30.0


async def connect_at_startup(connect: Callable[[], Awaitable[Any]], what: str,
                             timeout_s: float = STARTUP_CONNECT_TIMEOUT_S) -> Any:
    """`connect()` again until it succeeds or `timeout_s` has passed.

    A first connection can be refused for a moment the server will get over: nats-server rejects the
    connections it authenticates while it reloads its users file ("Authorization Violation"), and a
    server or cluster node may still be starting. nats-py only retries connections it once had.
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await connect()
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            log.warning("nats connection refused at start-up, trying again", connection=what,
                        attempt=attempt, error=_short(exc))
            await asyncio.sleep(min(2.0, 0.25 * attempt))


@dataclass
class Bus:
    """A plain nats-py connection for what is not a subscriber: outbox relay, dead letters, admin."""

    nc: nats.NATS
    js: JetStreamContext
    settings: Settings
    service: str
    watch: ConnectionWatch

    @classmethod
    async def connect(cls, settings: Settings, service: str) -> "Bus":
        watch = ConnectionWatch(f"palabre-{service}")
        nc = await connect_at_startup(lambda: nats.connect(
            **NatsAddress.parse(settings.nats_url).connect_options(),
            name=f"palabre-{service}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            **watch.callbacks(),
        ), f"palabre-{service}")
        watch.opened()
        js = nc.jetstream(timeout=10)
        return cls(nc=nc, js=js, settings=settings, service=service, watch=watch)

    async def close(self) -> None:
        self.watch.closing()
        with contextlib.suppress(Exception):
            await self.nc.drain()

    async def dead_letter(self, msg: Any, durable: str, reason: str) -> None:
        """Keep a message that cannot be processed, with why, in the dead-letter stream."""
        meta = msg.metadata
        ids = message_log_ids(msg)
        headers = {
            MSG_ID_HEADER: f"dlq/{durable}/{meta.stream}/{meta.sequence.stream}",
            DLQ_REASON: reason[:2000].replace("\r", " ").replace("\n", " "),
            DLQ_SUBJECT: msg.subject,
            DLQ_CONSUMER: durable,
            DLQ_DELIVERIES: str(meta.num_delivered),
        }
        await self.js.publish(f"palabre.dlq.{durable}", msg.data, headers=headers)
        log.warning("event dead-lettered", consumer=durable, subject=msg.subject, reason=reason[:300], **ids)


FLUSH_WINDOW_S = 0.005


def message_log_ids(msg: Any) -> dict[str, str]:
    """The event id and contribution id a message carries in its headers, for its log lines."""
    headers = getattr(msg, "headers", None) or {}
    ids = {}
    if MSG_ID_HEADER in headers:
        ids["event_id"] = headers[MSG_ID_HEADER]
    if CONTRIBUTION_HEADER in headers:
        ids["contribution_id"] = headers[CONTRIBUTION_HEADER]
    return ids


class EventBatcher:
    """Gathers the messages that one fetch hands concurrently to a handler into one batch.

    Each handler call waits for its batch to be processed and acked (or nak'ed, or dead-lettered), so
    FastStream's subscriber only fetches again once the whole batch is settled. Log lines written while a
    batch is processed carry its consumer and event ids; while one event is retried alone, its own ids.
    """

    def __init__(self, *, bus_of: Callable[[], "Bus"], durable: str, batch_size: int,
                 process: Callable[[list[Any]], Awaitable[None]], parse: "Parser" = parse_event,
                 on_outcome: Callable[["BatchOutcome"], None] | None = None) -> None:
        self.bus_of = bus_of
        self.durable = durable
        self.batch_size = batch_size
        self.process = process
        self.parse = parse
        self.on_outcome = on_outcome
        self._pending: list[tuple[Any, Any, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._flushers: set[asyncio.Task] = set()  # the loop holds tasks weakly: these settle batches

    async def submit(self, msg: Any) -> None:
        try:
            event = self.parse(msg.data)
        except (ValidationError, ValueError) as exc:
            await self.bus_of().dead_letter(msg, self.durable, f"invalid event: {_short(exc)}")
            await msg.ack()
            self._report(BatchOutcome(dead_lettered=1))
            return
        done = asyncio.get_running_loop().create_future()
        self._pending.append((msg, event, done))
        if len(self._pending) >= self.batch_size:
            await self._flush()
        elif self._flusher is None:  # in a context of its own: not the first message's
            self._flusher = asyncio.create_task(self._flush_soon(), context=contextvars.Context())
            self._flushers.add(self._flusher)
            self._flusher.add_done_callback(self._flushers.discard)
        await done

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_WINDOW_S)
        await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if self._flusher is not None and self._flusher is not asyncio.current_task():
            self._flusher.cancel()
        self._flusher = None
        if not batch:
            return
        try:
            outcome = await self._settle(batch)
        except BaseException as exc:  # noqa: BLE001 - never leave a handler waiting forever
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            raise
        for _, _, done in batch:
            if not done.done():
                done.set_result(None)
        self._report(outcome)

    async def _settle(self, batch: list[tuple[Any, Any, asyncio.Future]]) -> "BatchOutcome":
        outcome = BatchOutcome()
        bus = self.bus_of()
        event_ids = [_event_id(event) for _, event, _ in batch]
        with structlog.contextvars.bound_contextvars(consumer=self.durable, batch_size=len(batch),
                                                     event_ids=event_ids[:20]):
            try:
                await self.process([event for _, event, _ in batch])
                failed = None
            except Exception as batch_exc:  # noqa: BLE001 - isolate the failing event below
                failed = batch_exc
                if len(batch) > 1:
                    log.warning("batch failed, retrying event by event", error=_short(batch_exc))
        if failed is None:
            crash_point(bus.settings, "consumer.after_commit")
            await asyncio.gather(*(msg.ack() for msg, _, _ in batch))
            outcome.processed += len(batch)
            return outcome
        for msg, event, _ in batch:
            with structlog.contextvars.bound_contextvars(consumer=self.durable, **message_log_ids(msg)):
                try:
                    await self.process([event])
                except Exception as exc:  # noqa: BLE001
                    await _nak_or_dead_letter(msg, bus, self.durable, exc, outcome)
                    continue
                crash_point(bus.settings, "consumer.after_commit")
                await msg.ack()
                outcome.processed += 1
        return outcome

    def _report(self, outcome: "BatchOutcome") -> None:
        if self.on_outcome:
            self.on_outcome(outcome)


@dataclass
class BatchOutcome:
    processed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)


Parser = Callable[[bytes], Any]


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
