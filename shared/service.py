"""The shape every service shares: settings, database pool, bus, outbox relay, consumers, HTTP app.

A service module builds one `ServiceRuntime`, registers its consumers with
`@runtime.consumer(ContributionPublished, durable="synthesis-published")`, and creates its FastAPI app with
`runtime.create_app(...)`. Start-up applies the service's migrations,
declares the streams, starts the outbox relay and then the consumers.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI

from shared import asyncapi, migrations
from shared.bus import (
    STREAM_OF,
    BatchOutcome,
    Bus,
    ConnectionWatch,
    EventSettler,
    NatsAddress,
    PullConsumer,
    connect_nats,
    declare_streams,
)
from shared.db import claim_new_events, create_pool, processed_events_horizon_s, prune_processed_events
from shared.events import CloudEvent, EventData, consumer_filter, parse_event
from shared.http import Metrics, install_body_limit, install_operational_routes, install_problem_handlers
from shared.logging import configure_logging, get_logger
from shared.outbox import OutboxRelay
from shared.settings import DEFAULT_SECRET_KEY, Settings, get_settings

log = get_logger(__name__)

CONSUMER_STOP_S = 10.0
PRUNE_EVERY_S = 3600.0


async def prune_processed_events_hourly(runtime: "ServiceRuntime") -> None:
    """Processed-event records beyond the de-duplication horizon go, so that the table does not grow for ever."""
    horizon_s = processed_events_horizon_s(runtime.settings.stream_max_age_s)
    while True:
        deleted = await prune_processed_events(runtime.db, horizon_s)
        if deleted:
            log.info("processed-event records pruned", deleted=deleted, older_than_s=horizon_s)
        await asyncio.sleep(PRUNE_EVERY_S)


class ServiceRuntime:
    def __init__(self, name: str, settings: Settings | None = None, *, title: str, description: str,
                 migrations: Path, schema: str | None = None) -> None:
        self.name = name
        self.schema = schema or name  # a service's worker process works in the service's schema
        self.migrations = migrations  # the service's NNNN_name.sql files
        self.settings = settings or get_settings()
        self.title = title
        self.description = description
        self.consumers_connection = ConnectionWatch(f"palabre-{name}-consumers")
        self.consumers: list[PullConsumer] = []
        self.channels: list[asyncapi.Channel] = []  # what the AsyncAPI document describes
        self.metrics = Metrics(name)
        self.pool: asyncpg.Pool | None = None
        self.bus: Bus | None = None
        self.relay: OutboxRelay | None = None
        self.background: list[Callable[["ServiceRuntime"], Awaitable[None]]] = [prune_processed_events_hourly]
        self._tasks: list[asyncio.Task] = []
        self._on_start: list[Callable[["ServiceRuntime"], Awaitable[None]]] = []
        self._stopping = asyncio.Event()
        self._consumer_tasks: list[asyncio.Task] = []
        self._consumers_nc = None

    # --- wiring -------------------------------------------------------------------------------

    def consumer(self, *events: type[EventData], durable: str, envelopes: bool = False,
                 batch_size: int | None = None, description: str | None = None):
        """Register `decide(conn, payloads)` as the decision of the durable batch consumer `durable`, which
        takes the `events` named (their subject filter, stream and AsyncAPI payload come from them).

        For each fetch the runtime validates the events (the invalid, and those of another type, are
        dead-lettered), opens one transaction, records the events as processed by `durable` and calls
        `decide` with those not seen before (their payloads, or the whole CloudEvents when `envelopes`);
        the events are acked after the commit. `decide` is not called when every event was seen before."""
        taken = {model.event_type for model in events}

        def parse(raw: bytes) -> CloudEvent[Any]:
            event = parse_event(raw)
            if event.type not in taken:
                raise ValueError(f"event type {event.type!r} is not one that {durable} takes")
            return event

        def register(decide: Callable[[asyncpg.Connection, list[Any]], Awaitable[None]]):
            async def process(batch: list[CloudEvent[Any]]) -> None:
                async with self.transaction() as conn:
                    new = await claim_new_events(conn, durable, [event.id for event in batch])
                    first_copies: dict[str, CloudEvent[Any]] = {}
                    for event in batch:  # a copy redelivered within the same fetch is not new
                        first_copies.setdefault(event.id, event)
                    fresh = [event for event in first_copies.values() if event.id in new]
                    if fresh:
                        await decide(conn, fresh if envelopes else [event.data for event in fresh])

            settler = EventSettler(bus_of=lambda: self.bus, durable=durable, process=process, parse=parse)
            self.message_consumer(*events, durable=durable, batch_size=batch_size,
                                  description=description or decide.__doc__)(settler.settle)
            return decide

        return register

    def message_consumer(self, *events: type[EventData], durable: str, batch_size: int | None = None,
                         description: str | None = None):
        """Register `settle(messages)`, which validates, processes and acks the raw messages of each fetch
        itself, as the handler of the durable consumer `durable` of the `events` named."""

        def register(settle: Callable[[list[Any]], Awaitable[BatchOutcome]]):
            def count(outcome: BatchOutcome, messages: int, seconds: float) -> None:
                self.metrics.events_processed.labels(durable).inc(outcome.processed)
                self.metrics.events_dead_lettered.labels(durable).inc(outcome.dead_lettered)
                self.metrics.batch_messages.labels(durable).observe(messages)
                self.metrics.batch_seconds.labels(durable).observe(seconds)

            consumer = PullConsumer(consumer_filter(events), durable, STREAM_OF[events[0].stream],
                                    batch_size or self.settings.batch_size, settle, on_settled=count, events=events)
            self.consumers.append(consumer)
            self.channels.append(asyncapi.Channel(f"{durable}:{consumer.subject}", consumer.subject, "receive",
                                                  events, description or settle.__doc__, durable))
            return settle

        return register

    def publishes(self, model: type[EventData], description: str) -> None:
        """Declare an outgoing event so that the AsyncAPI document shows it."""
        self.channels.append(asyncapi.Channel(model.event_type, model.subject_filter, "send", (model,), description))

    def on_start(self, hook: Callable[["ServiceRuntime"], Awaitable[None]]):
        self._on_start.append(hook)
        return hook

    def background_task(self, task: Callable[["ServiceRuntime"], Awaitable[None]]):
        self.background.append(task)
        return task

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        configure_logging(self.name, self.settings.log_level)
        if self.settings.secret_key == DEFAULT_SECRET_KEY and not self.settings.demo:
            raise RuntimeError("PALABRE_SECRET_KEY is the default one: set a secret of your own (or "
                               "PALABRE_DEMO=true for a demonstration)")
        if not self.settings.database_url:
            raise RuntimeError("PALABRE_DATABASE_URL is not set")
        await migrations.upgrade(self.settings.database_url, self.schema, self.migrations)
        self.pool = await create_pool(self.settings.database_url, self.schema, max_size=12)
        self.bus = await Bus.connect(self.settings, self.name)
        await declare_streams(self.bus.js, self.settings)
        self.relay = OutboxRelay(self.pool, self.bus, self.schema)
        await self.relay.start()
        for hook in self._on_start:
            await hook(self)
        if self.consumers:
            self._consumers_nc = await connect_nats(self.settings, self.consumers_connection)
            consumers_js = self._consumers_nc.jetstream(timeout=10)
            for consumer in self.consumers:
                self._consumer_tasks.append(asyncio.create_task(
                    self._supervise(self._consumer_loop(consumer, consumers_js)), name=consumer.durable))
        for task in self.background:
            self._tasks.append(asyncio.create_task(self._supervise(task), name=task.__name__))
        log.info("service started", service=self.name)

    def _consumer_loop(self, consumer: PullConsumer, js) -> Callable[["ServiceRuntime"], Awaitable[None]]:
        async def consume(runtime: "ServiceRuntime") -> None:
            await consumer.run(js, runtime.settings, runtime._stopping)

        consume.__name__ = f"consumer {consumer.durable}"
        return consume

    async def _supervise(self, task: Callable[["ServiceRuntime"], Awaitable[None]]) -> None:
        while True:
            try:
                await task(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a background loop restarts after a failure
                log.exception("background task failed, restarting", task=task.__name__, error=str(exc))
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Consumers finish the batch in hand (up to `CONSUMER_STOP_S`), then everything else stops."""
        self._stopping.set()
        if self._consumer_tasks:
            _, unfinished = await asyncio.wait(self._consumer_tasks, timeout=CONSUMER_STOP_S)
            for task in unfinished:
                task.cancel()
        for task in self._tasks:
            task.cancel()
        for task in [*self._consumer_tasks, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.consumers_connection.closing()
        if self._consumers_nc is not None:  # every batch fetched is settled by now: nothing to drain
            with contextlib.suppress(Exception):
                await self._consumers_nc.close()
        if self.relay:
            await self.relay.stop()
        if self.bus:
            await self.bus.close()
        if self.pool:
            await self.pool.close()

    async def ready(self) -> dict[str, bool]:
        database = False
        if self.pool is not None:
            with contextlib.suppress(Exception):
                async with self.pool.acquire(timeout=2) as conn:
                    database = await conn.fetchval("SELECT 1") == 1
        bus = bool(self.bus and self.bus.nc.is_connected)
        return {"database": database, "bus": bus,
                "consumers": self.consumers_connection.connected or not self.consumers}

    def alive(self) -> dict[str, bool]:
        """False for a bus connection nats-py closed for good: only a restart brings it back."""
        return {"bus": not (self.bus and self.bus.watch.closed_unexpectedly),
                "consumers": not self.consumers_connection.closed_unexpectedly}

    def asyncapi(self) -> dict[str, Any]:
        return asyncapi.document(title=f"Palabre {self.name}", description=self.description,
                                 servers=NatsAddress.parse(self.settings.nats_url).servers, channels=self.channels)

    def create_app(self, *, max_body_bytes: int | None = None, body_limits: dict[str, int] | None = None,
                   **fastapi_kwargs: Any) -> FastAPI:
        """`max_body_bytes` (default `settings.max_request_bytes`) caps request bodies, `body_limits` by path."""
        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI):
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=self.title, description=self.description, version="1.0.0",
                      lifespan=lifespan, **fastapi_kwargs)
        app.state.runtime = self
        install_problem_handlers(app)
        install_operational_routes(app, metrics=self.metrics, alive=self.alive, ready=self.ready,
                                   asyncapi=self.asyncapi)
        install_body_limit(app, max_body_bytes or self.settings.max_request_bytes, body_limits)
        return app

    def transaction(self):
        """A transaction on the service's database; the outbox events it adds are published right after
        its commit (`OutboxRelay.transaction`)."""
        assert self.relay is not None, "service not started"  # nosec B101 # type narrowing, used after start()
        return self.relay.transaction()

    @property
    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, "service not started"  # nosec B101 # type narrowing, used after start()
        return self.pool
