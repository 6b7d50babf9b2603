"""The webhook delivery worker: takes due deliveries from the table, signs and sends them, and records
every attempt.

Driven by the table, not by memory: a claimed delivery is leased (`webhook_lease_s`), so a worker that
dies leaves it due again and another worker (or the restarted one) sends it, with the same `webhook-id`.
A live worker renews the leases of the deliveries it holds until their attempt is recorded, so one that
waits for its turn longer than the lease (a slow endpoint, a low rate) is not sent twice.
An endpoint that answers 2xx again after failures gets the deliveries that wait for a retry at once, in
order (when its attempts are recorded, `store.record_attempts`); one that stays down keeps the retry schedule.

Each delivery is its own task: a subscription has at most its `max_in_flight` requests in flight and
its `max_rate_per_s` per second (the service's `webhook_concurrency` and `webhook_rate_per_s` unless it
asked otherwise), and the claim never takes more than that for one subscription, so one slow or failing
endpoint delays no other.

Requests go through aiohttp: its C parser costs a small fraction of the CPU per request that httpx's pool
cost with hundreds of connections open (docs/operations.md). Unless private targets are allowed, its resolver is
`PublicAddressResolver`: the address a connection uses is the one that was checked.
"""

import asyncio
import contextlib
import socket
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import aiohttp
from prometheus_client import Counter, Histogram

from services.notifications import store
from services.notifications.domain.mail import subscription_disabled_notice
from services.notifications.domain.webhooks import (
    Outcome,
    UnsafeTarget,
    check_target,
    refuse_private_addresses,
    classify_response,
    next_retry_delay_s,
    parse_retry_after,
    signature_headers,
)
from shared.db import Wakeup
from shared.logging import get_logger
from shared.ratelimit import TokenBucket

log = get_logger(__name__)

MAX_IN_FLIGHT = 256
MAX_RESPONSE_BYTES = 64 * 1024  # a longer answer is not read: its connection is closed instead
CLAIM_AT_LEAST = 32
RECORD_EVERY_S = 0.05
DELIVERIES_CHANNEL = "notifications_deliveries"  # notified when deliveries are inserted (migration 0004)
IDLE_POLL_S = 1.0  # retries and expired leases come due on their own; new deliveries and freed slots wake it


class SubscriptionLimits:
    """One subscription's sender limits: a semaphore for requests in flight, a token bucket for the rate."""

    def __init__(self, max_in_flight: int, max_rate_per_s: float) -> None:
        self.max_in_flight, self.max_rate_per_s = max_in_flight, max_rate_per_s
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.rate = TokenBucket(max_rate_per_s, max(1.0, max_rate_per_s))


class PublicAddressResolver(aiohttp.ThreadedResolver):
    """Resolves a webhook host and refuses it when any of its addresses is not public."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        found = await super().resolve(host, port, family)
        refuse_private_addresses(host, [entry["host"] for entry in found])
        return found


class DeliveryWorker:
    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.in_flight: dict[str, int] = defaultdict(int)
        self.limits: dict[str, SubscriptionLimits] = {}
        self.results: list[dict[str, Any]] = []
        self.held: set[Any] = set()  # claimed here, attempt not yet recorded: their leases are renewed
        self.wakeup = Wakeup(runtime.db, DELIVERIES_CHANNEL)  # new deliveries, and slots freed here
        registry = runtime.metrics.registry
        self.sent = _metric(registry, Counter, "palabre_webhook_attempts_total", "Webhook attempts by outcome",
                            ["outcome"])
        self.latency = _metric(registry, Histogram, "palabre_webhook_latency_seconds", "Webhook request latency")

    @property
    def allow_private(self) -> bool:
        return self.settings.allow_private_webhooks or self.settings.demo

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s)
        connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=0,
                                         resolver=None if self.allow_private else PublicAddressResolver())
        recorder = asyncio.create_task(self._record_loop(), name="webhook-recorder")
        tasks: set[asyncio.Task] = set()
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                             skip_auto_headers=("User-Agent",)) as client:
                while True:
                    if MAX_IN_FLIGHT - len(tasks) < CLAIM_AT_LEAST:  # nearly full: claim in batches, not per slot
                        await asyncio.sleep(RECORD_EVERY_S)
                    free = MAX_IN_FLIGHT - len(tasks)
                    if free <= 0:
                        continue
                    busy = [s for s, n in self.in_flight.items() if n >= self._limits_of(s).max_in_flight]
                    self.wakeup.clear()
                    due = await store.claim_due_deliveries(
                        self.runtime.db, free, per_subscription=self.settings.webhook_concurrency, busy=busy,
                        held=self.held, lease_s=self.settings.webhook_lease_s)
                    if not due:
                        await self.wakeup.wait(IDLE_POLL_S)
                        continue
                    for delivery in due:
                        self.held.add(delivery["id"])
                        subscription = str(delivery["subscription_id"])
                        self._limits_of(subscription, delivery)
                        self.in_flight[subscription] += 1
                        task = asyncio.create_task(self._deliver(client, delivery))
                        tasks.add(task)
                        task.add_done_callback(lambda t, s=subscription, d=delivery["id"]: self._done(t, s, d, tasks))
                    if len(due) < free:  # all that was due and allowed: claim again once woken
                        await self.wakeup.wait(IDLE_POLL_S)
        finally:
            for task in tasks:
                task.cancel()
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await recorder
            await self.wakeup.close()

    def _limits_of(self, subscription: str, delivery: dict[str, Any] | None = None) -> "SubscriptionLimits":
        """The subscription's limits, as its latest claimed delivery gave them (a change takes effect then)."""
        current = self.limits.get(subscription)
        if delivery is not None:
            asked = (delivery["max_in_flight"] or self.settings.webhook_concurrency,
                     delivery["max_rate_per_s"] or self.settings.webhook_rate_per_s)
            if current is None or (current.max_in_flight, current.max_rate_per_s) != asked:
                current = self.limits[subscription] = SubscriptionLimits(*asked)
        if current is None:
            return SubscriptionLimits(self.settings.webhook_concurrency, self.settings.webhook_rate_per_s)
        return current

    def _done(self, task: asyncio.Task, subscription: str, delivery_id: Any, tasks: set[asyncio.Task]) -> None:
        """A delivery sent: its slot is free. The claim loop is woken only when a claim may now take more
        than before (the subscription was at its limit, or the worker nearly full)."""
        tasks.discard(task)
        freed_a_limit = (self.in_flight[subscription] >= self._limits_of(subscription).max_in_flight
                         or len(tasks) + 1 > MAX_IN_FLIGHT - CLAIM_AT_LEAST)
        self.in_flight[subscription] -= 1
        if self.in_flight[subscription] <= 0:
            del self.in_flight[subscription]
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery task failed", error=str(task.exception()))
            self.held.discard(delivery_id)  # no attempt to record: its lease runs out and it is tried again
        if freed_a_limit:
            self.wakeup.set()

    async def _deliver(self, client: aiohttp.ClientSession, delivery: dict[str, Any]) -> None:
        limits = self._limits_of(str(delivery["subscription_id"]))
        async with limits.in_flight:
            await limits.rate.take()
            result = await self._send(client, delivery)
        self.sent.labels(result["status"]).inc()
        self.results.append(result)

    async def _record_loop(self) -> None:
        """Records the attempts made, and renews the held leases a few times per lease (one task does both,
        so a lease is never renewed after its delivery's outcome was written)."""
        renew_every_s = self.settings.webhook_lease_s / 3
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(RECORD_EVERY_S)
            if time.monotonic() - renewed_at >= renew_every_s:
                renewed_at = time.monotonic()
                with contextlib.suppress(Exception):  # the lease's remaining two thirds cover one miss
                    if self.held:
                        await store.extend_leases(self.runtime.db, self.held, self.settings.webhook_lease_s)
            if not self.results:
                continue
            batch, self.results = self.results, []
            try:
                recorded = await store.record_attempts(self.runtime.db, batch, subscription_disabled_notice,
                                                       self.settings.webhook_lease_s)
            except Exception as exc:  # noqa: BLE001 - keep the results; the lease protects the rows meanwhile
                log.warning("recording webhook attempts failed, retrying", error=str(exc))
                self.results = batch + self.results
                await asyncio.sleep(1.0)
                continue
            self.held.difference_update(r["id"] for r in batch)
            for row in recorded.disabled:
                log.warning("subscription disabled", subscription=str(row["id"]), reason=row["disabled_reason"])
            if recorded.released:
                log.info("endpoint answers again: waiting deliveries released", deliveries=recorded.released)
                self.wakeup.set()

    async def _send(self, client: aiohttp.ClientSession, delivery: dict[str, Any]) -> dict[str, Any]:
        result = {"id": delivery["id"], "subscription_id": delivery["subscription_id"], "status_code": None,
                  "latency_ms": None, "error": None, "status": "pending", "retry_in_s": None,
                  "disable_reason": None, "pause_s": None}
        attempts_made = delivery["attempts"] + 1
        if delivery["subscription_status"] != "active":
            result.update(status="cancelled", error="subscription disabled")
            return result
        try:  # shape and literal addresses; names are checked by the connector's resolver
            check_target(delivery["url"], allow_private=self.allow_private, resolve=False)
        except UnsafeTarget as exc:
            return _refused(result, exc)
        body = bytes(delivery["payload"])
        payload = body.decode()
        now = datetime.now(UTC)
        previous = delivery["previous_secret"] if (
            delivery["previous_secret_until"] and delivery["previous_secret_until"] > now) else None
        headers = {
            "content-type": "application/json",
            "user-agent": "Palabre-Webhooks/1.0",
            **signature_headers(delivery["secret"], delivery["event_id"], now, payload, previous),
        }
        retry_after = None
        started = time.perf_counter()
        try:
            async with client.post(delivery["url"], data=body, headers=headers,
                                   allow_redirects=False) as response:
                result["status_code"] = response.status
                retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
                if response.content_length is not None and response.content_length <= MAX_RESPONSE_BYTES:
                    await response.read()  # read to the end: the connection goes back to the pool
        except UnsafeTarget as exc:
            return _refused(result, exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"[:500]
        elapsed = time.perf_counter() - started
        result["latency_ms"] = int(elapsed * 1000)
        self.latency.observe(elapsed)
        outcome = classify_response(result["status_code"])
        if outcome is Outcome.DELIVERED:
            result["status"] = "delivered"
            return result
        if outcome is Outcome.DISABLE:
            result.update(status="failed", disable_reason="the endpoint answered 410 Gone")
            return result
        delay = next_retry_delay_s(attempts_made, retry_after, schedule=self.settings.webhook_retry_schedule_s,
                                   max_retry_after_s=self.settings.webhook_max_retry_after_s)
        if delay is None:
            result.update(status="failed", disable_reason=f"{attempts_made} failed attempts in a row")
            return result
        result["retry_in_s"] = delay
        if result["status_code"] == 429 or retry_after is not None:
            result["pause_s"] = delay  # the whole endpoint waits, not only this delivery
        return result


def _refused(result: dict[str, Any], exc: UnsafeTarget) -> dict[str, Any]:
    result.update(status="failed", error=f"unsafe target: {exc}", disable_reason=f"unsafe target: {exc}")
    return result


def _metric(registry, kind, name: str, documentation: str, labels: list[str] | None = None):
    """A metric of this worker, registered once per registry (the worker restarts after a failure)."""
    existing = registry._names_to_collectors.get(name) or registry._names_to_collectors.get(
        name.removesuffix("_total"))
    if existing is not None:
        return existing
    return kind(name, documentation, labels or [], registry=registry)
