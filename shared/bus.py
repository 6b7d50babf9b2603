"""JetStream set-up in one place: streams, durable consumers, publishing, dead letters.

The discipline every consumer follows (see `EventSettler`):
- events are parsed and validated; one that does not parse goes to the dead-letter stream with its reason;
- the events of one fetch are processed together in one database transaction, which also records the
  processed event ids and the outgoing events (outbox); they are acked only after that transaction commits;
- a failing batch is retried event by event, so that one poison event cannot hold back the others;
  a failing event is nak'ed with a growing delay and dead-lettered after `max_deliver` attempts;
- an error of the database or the bus (`not_the_events_fault`) is never an event's fault: the consumer
  keeps the messages in hand, fetches nothing more, and settles them again once the outage is over
  (`PullConsumer._wait_out`), however long it lasts; nothing is nak'ed or dead-lettered for it.

Consumers run in a plain loop (`PullConsumer`): wait for a first message, take whatever else is waiting
up to `batch_size`, settle them as one batch, fetch again (docs/architecture.md says why not FastStream).
"""

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import nats
import structlog
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
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_incrementing,
)

from shared.events import (
    DEAD_LETTER_PREFIX,
    DEAD_LETTER_STREAM_NAME,
    EVENTS_STREAM_NAME,
    INTAKE_STREAM_NAME,
    CloudEvent,
    dead_letter_subject,
    parse_event,
    stream_subjects,
)
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


GIB = 1024**3


@dataclass(frozen=True)
class StreamSpec:
    """A stream and its limits (the reasons are in docs/durability.md). When a stream is full, JetStream
    refuses new messages (`DiscardPolicy.NEW`) rather than dropping old ones a consumer may not have taken:
    the outbox keeps the events until there is room, and a territory system is told its publish failed."""

    name: str
    subjects: list[str]
    description: str
    max_bytes: int = -1  # -1: no limit
    max_age_s: int | None = None  # None: `settings.stream_max_age_s`


EVENTS_STREAM = StreamSpec(EVENTS_STREAM_NAME, stream_subjects(EVENTS_STREAM_NAME),
                           "Every domain event of the network", max_bytes=12 * GIB)
INTAKE_STREAM = StreamSpec(INTAKE_STREAM_NAME, stream_subjects(INTAKE_STREAM_NAME),
                           "Contributions proposed by territory systems on the bus", max_bytes=4 * GIB)
DEAD_LETTER_STREAM = StreamSpec(DEAD_LETTER_STREAM_NAME, [f"{DEAD_LETTER_PREFIX}.>"],
                                "Events that could not be processed, with their reason",
                                max_bytes=1 * GIB, max_age_s=90 * 86400)
STREAMS = [EVENTS_STREAM, INTAKE_STREAM, DEAD_LETTER_STREAM]
STREAM_OF = {spec.name: spec for spec in STREAMS}

DLQ_REASON = "Palabre-Dlq-Reason"
DLQ_SUBJECT = "Palabre-Dlq-Subject"
DLQ_CONSUMER = "Palabre-Dlq-Consumer"
DLQ_DELIVERIES = "Palabre-Dlq-Deliveries"
DLQ_EVENT_ID = "Palabre-Dlq-Event-Id"
REPLAY_FOR = "Palabre-Replay-For"  # a dead letter published again: only this durable consumer takes it
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
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError)),
        stop=stop_after_attempt(attempts), wait=wait_incrementing(0.5, 0.5, max=5.0), reraise=True,
        before_sleep=_log_retry("stream declaration timed out, trying again"))
    async def declare() -> None:
        await _declare_streams(js, settings)

    await retrying(declare)


async def _declare_streams(js: JetStreamContext, settings: Settings) -> None:
    for spec in STREAMS:
        config = StreamConfig(
            name=spec.name,
            subjects=spec.subjects,
            description=spec.description,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.NEW,
            num_replicas=settings.stream_replicas,
            duplicate_window=float(settings.duplicate_window_s),
            max_age=float(spec.max_age_s or settings.stream_max_age_s),
            max_bytes=spec.max_bytes,
        )
        try:
            await js.stream_info(spec.name)
            await js.update_stream(config)
        except NotFoundError:
            with contextlib.suppress(Exception):
                await js.add_stream(config)
            await js.stream_info(spec.name)


def consumer_config(durable: str, settings: Settings) -> ConsumerConfig:
    """JetStream itself never gives up on a message (`max_deliver` -1): the settler bounds an event's failed
    attempts (`settings.max_deliver`) and dead-letters it, with its reason. JetStream's own bound would leave
    a message that outages (a restarted nats-server, killed consumers) had redelivered that many times
    undelivered, without a word."""
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=settings.ack_wait_s,
        max_deliver=-1,
        max_ack_pending=20_000,
    )


def crash_point(settings: Settings, name: str) -> None:
    """Fault injection for the resilience tests: die at this point, as a `kill -9` would."""
    if settings.crash_point == name:
        log.warning("crash point reached, exiting", crash_point=name)
        os._exit(137)


def retry_delay_s(deliveries: int) -> float:
    """Back-off for a nak: 1 s, 2 s, 4 s... capped at 60 s."""
    return float(min(60, 2 ** max(0, deliveries - 1)))


def _log_retry(message: str, **fields: Any) -> Callable[[RetryCallState], None]:
    """tenacity's `before_sleep`: one warning per failed attempt, with its number and error."""
    def log_it(state: RetryCallState) -> None:
        log.warning(message, attempt=state.attempt_number, error=_short(state.outcome.exception()), **fields)
    return log_it


STARTUP_CONNECT_TIMEOUT_S = 30.0


async def connect_at_startup(connect: Callable[[], Awaitable[Any]], what: str,
                             timeout_s: float = STARTUP_CONNECT_TIMEOUT_S) -> Any:
    """`connect()` again until it succeeds or `timeout_s` has passed.

    A first connection can be refused for a moment the server will get over: nats-server rejects the
    connections it authenticates while it reloads its users file ("Authorization Violation"), and a
    server or cluster node may still be starting. nats-py only retries connections it once had.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((nats.errors.Error, OSError, TimeoutError)),
        stop=stop_after_delay(timeout_s), wait=wait_incrementing(0.25, 0.25, max=2.0), reraise=True,
        before_sleep=_log_retry("nats connection refused at start-up, trying again", connection=what))
    async def attempt() -> Any:  # `connect` may be a lambda returning a coroutine
        return await connect()

    return await retrying(attempt)


async def connect_nats(settings: Settings, watch: ConnectionWatch) -> nats.NATS:
    """A service connection, named after its watch, that reconnects for ever and reports to the watch."""
    nc = await connect_at_startup(lambda: nats.connect(
        **NatsAddress.parse(settings.nats_url).connect_options(),
        name=watch.name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        **watch.callbacks(),
    ), watch.name)
    watch.opened()
    return nc


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
        nc = await connect_nats(settings, watch)
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
            **({DLQ_EVENT_ID: ids["event_id"]} if "event_id" in ids else {}),
            **({CONTRIBUTION_HEADER: ids["contribution_id"]} if "contribution_id" in ids else {}),
        }
        await self.js.publish(dead_letter_subject(durable), msg.data, headers=headers)
        log.warning("event dead-lettered", consumer=durable, subject=msg.subject, reason=reason[:300], **ids)


def message_log_ids(msg: Any) -> dict[str, str]:
    """The event id and contribution id a message carries in its headers, for its log lines."""
    headers = getattr(msg, "headers", None) or {}
    ids = {}
    if MSG_ID_HEADER in headers:
        ids["event_id"] = headers[MSG_ID_HEADER]
    if CONTRIBUTION_HEADER in headers:
        ids["contribution_id"] = headers[CONTRIBUTION_HEADER]
    return ids


class EventSettler:
    """Settles the messages of one fetch as one batch: parse (the invalid are dead-lettered), process
    together, ack after the commit; a failing batch is retried event by event. Log lines written while a
    batch is processed carry its consumer and event ids; while one event is retried alone, its own ids."""

    def __init__(self, *, bus_of: Callable[[], "Bus"], durable: str,
                 process: Callable[[list[Any]], Awaitable[None]], parse: "Parser" = parse_event) -> None:
        self.bus_of = bus_of
        self.durable = durable
        self.process = process
        self.parse = parse

    async def settle(self, messages: list[Any]) -> "BatchOutcome":
        outcome = BatchOutcome()
        batch = []
        for msg in messages:
            try:
                batch.append((msg, self.parse(msg.data)))
            except (ValidationError, ValueError) as exc:
                await self.bus_of().dead_letter(msg, self.durable, f"invalid event: {_short(exc)}")
                await msg.ack()
                outcome.dead_lettered += 1
        if batch:
            await self._settle(batch, outcome)
        return outcome

    async def _settle(self, batch: list[tuple[Any, Any]], outcome: "BatchOutcome") -> None:
        bus = self.bus_of()
        event_ids = [_event_id(event) for _, event in batch]
        with structlog.contextvars.bound_contextvars(consumer=self.durable, batch_size=len(batch),
                                                     event_ids=event_ids[:20]):
            try:
                await self.process([event for _, event in batch])
                failed = None
            except Exception as batch_exc:  # noqa: BLE001 - isolate the failing event below
                failed = batch_exc
                if len(batch) > 1 and not not_the_events_fault(batch_exc):
                    log.warning("batch failed, retrying event by event", error=_short(batch_exc))
        if failed is not None and not_the_events_fault(failed):
            raise InfrastructureUnavailable(_short(failed)) from failed
        if failed is None:
            crash_point(bus.settings, "consumer.after_commit")
            await asyncio.gather(*(msg.ack() for msg, _ in batch))
            outcome.processed += len(batch)
            return
        for msg, event in batch:
            with structlog.contextvars.bound_contextvars(consumer=self.durable, **message_log_ids(msg)):
                try:
                    await self.process([event])
                except Exception as exc:  # noqa: BLE001
                    if not_the_events_fault(exc):  # this one and the rest are settled after the outage
                        raise InfrastructureUnavailable(_short(exc)) from exc
                    await _nak_or_dead_letter(msg, bus, self.durable, exc, outcome)
                    continue
                crash_point(bus.settings, "consumer.after_commit")
                await msg.ack()
                outcome.processed += 1


FETCH_WAIT_S = 1.0
MORE_WAIT_S = 0.005
OUTAGE_FIRST_WAIT_S = 0.5
OUTAGE_MAX_WAIT_S = 10.0  # and under a third of `ack_wait`: the held messages are kept in progress in time


@dataclass
class PullConsumer:
    """One durable pull consumer run in a plain loop: wait up to `FETCH_WAIT_S` for a first message, take
    whatever else is there up to `batch_size`, settle them, fetch again. Replicas of a service run the
    same durable: JetStream spreads the messages between their fetches.

    Not one `fetch(batch_size)`: when it has to wait for a first message, nats-py's fetch then waits for
    the batch to fill or its timeout to pass, which held a lone message up to a second."""

    subject: str
    durable: str
    stream: StreamSpec
    batch_size: int
    settle: Callable[[list[Any]], Awaitable["BatchOutcome"]]
    on_settled: Callable[["BatchOutcome", int, float], None] | None = None  # outcome, messages, seconds
    events: tuple[type, ...] = ()  # the event models it takes
    ack_wait_s: float = 30.0  # the settings' value, once running

    async def run(self, js: JetStreamContext, settings: Settings, stopping: asyncio.Event) -> None:
        self.ack_wait_s = settings.ack_wait_s
        subscription = await self._subscribe(js, settings, stopping)
        while subscription is not None and not stopping.is_set():
            try:
                messages = await subscription.fetch(1, timeout=FETCH_WAIT_S)
                if self.batch_size > 1:
                    messages += await self._more(subscription, self.batch_size - 1)
            except TimeoutError:  # nothing to do
                continue
            except nats.js.errors.APIError as exc:  # the server answered: e.g. the consumer was deleted
                log.warning("fetch refused, binding the consumer again", consumer=self.durable, error=_short(exc))
                await asyncio.sleep(0.5)
                subscription = await self._subscribe(js, settings, stopping)
                continue
            except (nats.errors.Error, OSError) as exc:  # connection down: nats-py reconnects, the watch logs
                log.debug("fetch failed", consumer=self.durable, error=_short(exc))
                await asyncio.sleep(0.5)
                continue
            messages = await self._drop_replays_for_others(messages)
            if not messages:
                continue
            started = time.perf_counter()
            try:
                outcome = await self.settle(messages)
            except Exception as exc:  # noqa: BLE001 - unacked messages come back after ack_wait
                if not_the_events_fault(exc):
                    outcome = await self._wait_out(messages, exc, stopping)
                    if self.on_settled and outcome is not None:
                        self.on_settled(outcome, len(messages), time.perf_counter() - started)
                    continue
                log.exception("batch not settled; its messages will be redelivered", consumer=self.durable,
                              error=_short(exc))
                await asyncio.sleep(1.0)
                continue
            if self.on_settled:
                self.on_settled(outcome, len(messages), time.perf_counter() - started)

    async def _wait_out(self, messages: list[Any], exc: Exception,
                        stopping: asyncio.Event) -> "BatchOutcome | None":
        """The database or the bus is away: keep the messages not yet settled in hand (telling JetStream
        they are in progress, so that it neither redelivers them nor counts a delivery), fetch nothing
        more, and settle them again after a capped back-off, until the outage is over or the service
        stops (then JetStream redelivers them after `ack_wait`)."""
        wait_s = OUTAGE_FIRST_WAIT_S
        since = time.monotonic()
        log.warning("database or bus away: holding the events in hand and waiting", consumer=self.durable,
                    events=sum(not m.is_acked for m in messages), error=_short(exc))
        while not stopping.is_set():
            pending = [m for m in messages if not m.is_acked]
            if not pending:
                return None
            with contextlib.suppress(Exception):  # the bus may be the part that is away
                await asyncio.gather(*(m.in_progress() for m in pending))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), wait_s)
            if stopping.is_set():
                break
            try:
                outcome = await self.settle(pending)
            except Exception as still:  # noqa: BLE001 - anything else: as a batch that was not settled
                if not not_the_events_fault(still):
                    log.exception("batch not settled; its messages will be redelivered", consumer=self.durable,
                                  error=_short(still))
                    return None
                wait_s = min(OUTAGE_MAX_WAIT_S, self.ack_wait_s / 3, wait_s * 2)
                log.info("database or bus still away", consumer=self.durable, events=len(pending),
                         away_s=round(time.monotonic() - since, 1), next_try_s=wait_s, error=_short(still))
                continue
            log.warning("outage over: held events settled", consumer=self.durable, events=len(pending),
                        away_s=round(time.monotonic() - since, 1))
            return outcome
        return None

    async def _drop_replays_for_others(self, messages: list[Any]) -> list[Any]:
        """A dead letter published again (`palabre dlq replay`) is for the consumer that dead-lettered it:
        the other consumers of its subject ack it and leave it alone."""
        kept = []
        for msg in messages:
            target = (msg.headers or {}).get(REPLAY_FOR)
            if target is not None and target != self.durable:
                await msg.ack()
            else:
                kept.append(msg)
        return kept

    @staticmethod
    async def _more(subscription: Any, up_to: int) -> list[Any]:
        """The messages already waiting, up to `up_to`, waiting at most `MORE_WAIT_S` for any."""
        try:
            return await subscription.fetch(up_to, timeout=MORE_WAIT_S)
        except TimeoutError:
            return []

    async def _subscribe(self, js: JetStreamContext, settings: Settings, stopping: asyncio.Event):
        """Bind to the durable consumer, creating it the first time; tried again while the stream or the
        cluster is not ready."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((nats.errors.Error, OSError, TimeoutError)),
            stop=lambda _: stopping.is_set(), wait=wait_incrementing(0.5, 0.5, max=5.0), reraise=True,
            before_sleep=_log_retry("consumer not bound yet, trying again", consumer=self.durable))
        async def bind() -> Any:
            return await js.pull_subscribe(self.subject, durable=self.durable, stream=self.stream.name,
                                           config=consumer_config(self.durable, settings))

        try:
            return await retrying(bind)
        except (nats.errors.Error, OSError, TimeoutError):
            if stopping.is_set():
                return None
            raise


@dataclass
class BatchOutcome:
    processed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)


Parser = Callable[[bytes], Any]


class InfrastructureUnavailable(Exception):
    """The database or the bus is away while a batch is settled: the consumer waits for it, holding the
    messages not yet settled, instead of blaming the events."""


NOT_THE_EVENTS_FAULT: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, no socket (a stopped PostgreSQL), nats-py's TimeoutError
    TimeoutError,  # a pool or a publish waited too long
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost
    asyncpg.InterfaceError,  # the connection or the pool closed under the transaction
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shut down, starting up, crashed
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.TransactionRollbackError,  # class 40: a deadlock or serialization failure, retried as a whole
    nats.errors.ConnectionClosedError,
    nats.errors.NoRespondersError,
    nats.js.errors.ServiceUnavailableError,
    InfrastructureUnavailable,
)


def not_the_events_fault(exc: BaseException) -> bool:
    """True for an error of the database or the bus (or one raised because of such an error): waiting
    mends it, and the event is not to blame."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, Unprocessable):
            return False
        if isinstance(exc, NOT_THE_EVENTS_FAULT):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class Unprocessable(Exception):
    """Raised by a consumer for an event that no retry will make processable (it names something that
    cannot be): the event is dead-lettered at once, with this reason."""


async def _nak_or_dead_letter(msg: Any, bus: Bus, durable: str, exc: Exception, outcome: BatchOutcome) -> None:
    deliveries = msg.metadata.num_delivered
    if isinstance(exc, Unprocessable):
        await bus.dead_letter(msg, durable, f"unprocessable: {exc}")
        await msg.ack()
        outcome.dead_lettered += 1
    elif deliveries >= bus.settings.max_deliver:
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
