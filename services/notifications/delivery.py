"""The webhook delivery worker: takes due deliveries from the table, signs and sends them, and records
every attempt. Driven by the table (not by memory), so a restart loses nothing; each endpoint has its own
concurrency limit, so one slow partner delays no other."""

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx

from services.notifications import store
from services.notifications.domain.webhooks import UnsafeTarget, check_target, next_retry_delay_s, signature_headers
from shared.logging import get_logger

log = get_logger(__name__)

CLAIM_BATCH = 200
PER_ENDPOINT_CONCURRENCY = 8
TIMEOUT_S = 10.0


class DeliveryWorker:
    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(PER_ENDPOINT_CONCURRENCY))
        self.delivered = 0

    @property
    def allow_private(self) -> bool:
        settings = self.runtime.settings
        return settings.allow_private_webhooks or settings.demo

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits, follow_redirects=False) as client:
            while True:
                due = await store.claim_due_deliveries(self.runtime.db, CLAIM_BATCH)
                if not due:
                    await asyncio.sleep(0.1)
                    continue
                results = await asyncio.gather(*(self._send(client, delivery) for delivery in due))
                await store.record_attempts(self.runtime.db, results)

    async def _send(self, client: httpx.AsyncClient, delivery: dict[str, Any]) -> dict[str, Any]:
        result = {"id": delivery["id"], "subscription_id": delivery["subscription_id"], "status_code": None,
                  "latency_ms": None, "error": None, "status": "pending", "retry_in_s": None,
                  "disable_reason": None}
        attempts_made = delivery["attempts"] + 1
        if delivery["subscription_status"] != "active":
            result.update(status="cancelled", error="subscription disabled")
            return result
        try:
            await asyncio.to_thread(check_target, delivery["url"], allow_private=self.allow_private)
        except UnsafeTarget as exc:
            result.update(status="failed", error=f"unsafe target: {exc}", disable_reason=f"unsafe target: {exc}")
            return result
        payload = bytes(delivery["payload"]).decode()
        previous = delivery["previous_secret"] if (
            delivery["previous_secret_until"] and delivery["previous_secret_until"] > datetime.now(UTC)) else None
        headers = {
            "content-type": "application/json",
            "user-agent": "Palabre-Webhooks/1.0",
            **signature_headers(delivery["secret"], delivery["event_id"], datetime.now(UTC), payload, previous),
        }
        retry_after = None
        async with self.semaphores[str(delivery["subscription_id"])]:
            started = time.perf_counter()
            try:
                response = await client.post(delivery["url"], content=payload, headers=headers)
                result["status_code"] = response.status_code
                retry_after = _retry_after_s(response.headers.get("retry-after"))
            except httpx.HTTPError as exc:
                result["error"] = f"{type(exc).__name__}: {exc}"[:500]
            result["latency_ms"] = int((time.perf_counter() - started) * 1000)
        code = result["status_code"]
        if code is not None and 200 <= code < 300:
            result["status"] = "delivered"
            self.delivered += 1
            return result
        if code == 410:
            result.update(status="failed", disable_reason="the endpoint answered 410 Gone")
            return result
        delay = next_retry_delay_s(attempts_made, retry_after)
        if delay is None:
            result.update(status="failed", disable_reason=f"failed {attempts_made} times in a row")
        else:
            result["retry_in_s"] = delay
        return result


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
