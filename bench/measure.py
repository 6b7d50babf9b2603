"""Each measurement of `palabre bench`, against a running `Stack`: data in, figures out.

Times are taken in this process: submission when the request leaves, decision when the decision event
reaches the bus (a plain NATS subscription on the decision subjects sees each event as JetStream stores it),
counting when the synthesis holds the contribution, delivery when the webhook receiver records it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import re
import subprocess  # nosec B404 # fixed argv only, never a shell
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import nats
import numpy as np
import orjson
from nats.js.api import StorageType, StreamConfig

from bench.load import TERRITORIES, batches, clean_contribution, contribution
from bench.receiver import ReceiverProcess
from bench.stack import INFRA_PARTS, Stack, cpu_by_part, cpu_sample
from shared.bus import CONTRIBUTION_HEADER
from shared.events import ContributionHeld, ContributionPublished, ContributionRejected

DECISIONS = (ContributionPublished, ContributionRejected, ContributionHeld)


# --- the machine's raw ceilings -------------------------------------------------------------------


async def jetstream_ceiling(stack: Stack, messages: int = 20_000, size: int = 700, in_flight: int = 256,
                            batch: int = 500) -> dict[str, float]:
    """JetStream publish with ack (`in_flight` outstanding) and pull-consume with ack, with nats-py, on
    a file-stored stream with the stack's replicas — the same path the services use."""
    nc = await stack.nats_connect()
    js = nc.jetstream(timeout=30)
    name = "BENCH_CEILING"
    await js.add_stream(StreamConfig(name=name, subjects=["bench.ceiling.>"], storage=StorageType.FILE,
                                     num_replicas=stack.durability.stream_replicas))
    payload = os.urandom(size // 2).hex().encode()
    try:
        started = time.perf_counter()
        pending: list[asyncio.Future] = []
        for index in range(messages):
            pending.append(await js.publish_async(f"bench.ceiling.{index % 40}", payload,
                                                  headers={"Nats-Msg-Id": f"ceiling-{index}"}))
            if len(pending) >= in_flight:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        publish_s = time.perf_counter() - started

        subscription = await js.pull_subscribe("bench.ceiling.>", durable="bench-ceiling", stream=name)
        received = 0
        started = time.perf_counter()
        while received < messages:
            msgs = await subscription.fetch(batch, timeout=10)
            await asyncio.gather(*(msg.ack() for msg in msgs))
            received += len(msgs)
        consume_s = time.perf_counter() - started
    finally:
        await js.delete_stream(name)
        await nc.close()
    return {"jetstream_pub_per_s": messages / publish_s, "jetstream_consume_per_s": messages / consume_s}


async def postgres_copy_ceiling(stack: Stack, rows: int = 200_000) -> dict[str, float]:
    """COPY into a logged table, with an index on the key, as the services' tables have."""
    import asyncpg

    text = "Les algorithmes utilisés par la métropole doivent être publiés et expliqués aux habitants. " * 2
    records = [(index, f"territoire-{index % 40}", text) for index in range(rows)]
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute("DROP TABLE IF EXISTS public.bench_copy; "
                           "CREATE TABLE public.bench_copy (id bigint PRIMARY KEY, territory text, body text)")
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", schema_name="public", records=records,
                                         columns=["id", "territory", "body"])
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE public.bench_copy")
    finally:
        await conn.close()
    return {"pg_copy_rows_per_s": rows / seconds}


# --- set-up shared by the pipeline measurements ----------------------------------------------------


@dataclass
class Network:
    """The territories of the run, their keys, and the subscription that receives everything."""

    keys: dict[str, str] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)


# The benchmark's receiver answers at once: its subscription asks more than the default limits (100
# requests/s, 8 at once), which protect partners' endpoints rather than measure Palabre.
RECEIVER_LIMITS = {"max_in_flight": 64, "max_rate_per_s": 5000}


def register_network(stack: Stack, receiver: ReceiverProcess, territories: int = len(TERRITORIES)) -> Network:
    network = Network()
    for slug, country in TERRITORIES[:territories]:
        network.keys[slug] = stack.create_territory(slug, country)
        network.countries[slug] = country
    partner_key = stack.create_partner("bench-observatoire")
    stack.subscribe(partner_key, f"{receiver.url}/all", limits=RECEIVER_LIMITS)
    return network


class DecisionWatch:
    """When each contribution's decision event reached the bus, and which one it was."""

    def __init__(self) -> None:
        self.decided: dict[str, tuple[str, float]] = {}
        self.nc: nats.NATS | None = None

    async def start(self, stack: Stack) -> DecisionWatch:
        self.nc = await stack.nats_connect()
        for model in DECISIONS:
            await self.nc.subscribe(model.subject_filter, cb=self._on_decision, pending_msgs_limit=1_000_000,
                                    pending_bytes_limit=2**30)
        return self

    async def _on_decision(self, msg) -> None:
        contribution_id = (msg.headers or {}).get(CONTRIBUTION_HEADER)
        if contribution_id and contribution_id not in self.decided:
            self.decided[contribution_id] = (msg.subject.split(".")[2], time.perf_counter())

    async def stop(self) -> None:
        if self.nc:
            await self.nc.close()

    def published(self, ids: set[str]) -> set[str]:
        return {cid for cid in ids if cid in self.decided and self.decided[cid][0] == "published"}


def load_client(connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """The load generator's HTTP client: aiohttp, whose per-request CPU is a small fraction of httpx's, so
    that the generator takes little from the cores it shares with what it measures."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                 timeout=aiohttp.ClientTimeout(total=timeout_s))


async def post_batch(client: aiohttp.ClientSession, stack: Stack, key: str, items: list[dict], *,
                     attempts: int = 60) -> list[str]:
    """POST a batch; retried while the service answers 5xx or is unreachable (idempotent by external_id),
    `attempts` times (60: about a minute)."""
    body = orjson.dumps({"contributions": items} if len(items) > 1 else items[0])
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for attempt in range(attempts):
        try:
            async with client.post(f"{stack.url('intake')}/v1/contributions", data=body, headers=headers) as response:
                status, text = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(min(2.0, 0.1 * (attempt + 1)))
            continue
        if status == 202:
            answer = orjson.loads(text)
            return [entry["id"] for entry in answer["accepted"] + answer["duplicates"]]
        if status < 500:
            raise RuntimeError(f"intake refused a batch: {status} {text[:500].decode(errors='replace')}")
        await asyncio.sleep(min(2.0, 0.1 * (attempt + 1)))
    raise RuntimeError(f"intake kept failing ({attempts} attempts)")


async def until(probe, timeout: float, what: str, interval: float = 0.2) -> float:
    """Wait for `probe()` (a coroutine function) to be true; returns the moment it was."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await probe():
            return time.perf_counter()
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


async def counted_in_synthesis(stack: Stack, ids: set[str]) -> int:
    rows = await stack.sql("SELECT count(*) AS n FROM synthesis.contributions WHERE id = ANY($1::uuid[])",
                           list(ids))
    return rows[0]["n"]


def delivered(receiver: ReceiverProcess, prefix: str) -> int:
    return httpx.get(f"{receiver.url}/stats", params={"prefix": prefix}, timeout=30).json()["contributions"]


# --- the pipeline, end to end --------------------------------------------------------------------


async def pipeline_throughput(stack: Stack, receiver: ReceiverProcess, network: Network, count: int, *,
                              prefix: str, batch: int = 500, concurrency: int = 4,
                              timeout: float = 900.0) -> dict[str, Any]:
    """Send `count` contributions as fast as intake takes them (batches, `concurrency` requests in flight)
    and time until every one is decided, every published one counted in the synthesis and delivered."""
    watch = await DecisionWatch().start(stack)
    territories = list(network.keys)
    queue: asyncio.Queue = asyncio.Queue()
    for territory, items in batches(count, batch, territories, prefix=prefix, seed=hash(prefix) % 1000):
        queue.put_nowait((territory, items))
    ids: set[str] = set()
    cpu_before = cpu_sample(stack.pids_by_part())

    async def sender(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            territory, items = queue.get_nowait()
            ids.update(await post_batch(client, stack, network.keys[territory], items))

    started = time.perf_counter()
    async with load_client(concurrency, 120) as client:
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
    accepted_at = time.perf_counter()
    decided_at = await until(lambda: _true(len(ids & watch.decided.keys()) == len(ids)), timeout, "decisions")
    published = watch.published(ids)
    counted_at = await until(lambda: _eq(counted_in_synthesis(stack, published), len(published)), timeout,
                             "the synthesis to count every published contribution")
    delivered_at = await until(lambda: _true(delivered(receiver, prefix) >= len(published)), timeout,
                               "every published contribution delivered to the webhook receiver", interval=0.5)
    finished = max(decided_at, counted_at, delivered_at)
    by_part = {part: seconds / len(ids) * 1000
               for part, seconds in cpu_by_part(cpu_before, cpu_sample(stack.pids_by_part())).items()}
    await watch.stop()
    outcomes: dict[str, int] = {}
    for cid in ids:
        outcomes[watch.decided[cid][0]] = outcomes.get(watch.decided[cid][0], 0) + 1
    return {
        "contributions": len(ids),
        "outcomes": outcomes,
        "contributions_per_s": len(ids) / (finished - started),
        "accepted_per_s": len(ids) / (accepted_at - started),
        "seconds": {"accepted": accepted_at - started, "decided": decided_at - started,
                    "counted": counted_at - started, "delivered": delivered_at - started},
        "cpu_s_per_1000": sum(seconds for part, seconds in by_part.items() if part not in INFRA_PARTS),
        "infra_cpu_s_per_1000": sum(seconds for part, seconds in by_part.items() if part in INFRA_PARTS),
        "cpu_s_per_1000_by_part": by_part,
    }


# --- one stage draining a backlog, with one replica or several -----------------------------------

# What a stage's backlog waits behind: the stage itself and what comes after it, stopped while the backlog
# builds so that the drain is the only work the machine does.
STAGES_STOPPED = {"moderation": ("moderation", "synthesis", "notifications"),
                  "synthesis": ("synthesis", "notifications")}


async def stage_drain(stack: Stack, receiver: ReceiverProcess, network: Network, stage: str, replicas: int,
                      count: int, *, prefix: str, timeout: float = 600.0) -> dict[str, Any]:
    """How fast `replicas` processes of `stage` (moderation or synthesis) drain a backlog of `count`
    contributions, with the stages after it stopped: what a replica adds when there is CPU to give it.

    On two cores the whole pipeline leaves no CPU for a second replica; one stage catching up after an
    outage does. The rate is taken between 10 % and 90 % of the backlog, leaving out start-up (loading
    the models) and the tail. Afterwards the stack is as before: one process of each service, caught up.
    """
    stopped = STAGES_STOPPED[stage]
    phases = {"began": time.perf_counter()}
    for (name, replica), process in list(stack.processes.items()):
        if name in stopped:
            process.stop()
            if replica:
                del stack.processes[(name, replica)]
    phases["stopped"] = time.perf_counter()
    watch = await DecisionWatch().start(stack)
    ids: set[str] = set()
    async with load_client(4, 120) as client:
        for territory, items in batches(count, 500, list(network.keys), prefix=prefix, seed=hash(prefix) % 1000):
            ids.update(await post_batch(client, stack, network.keys[territory], items))
    await until(lambda: _outbox_empty(stack, "intake"), timeout, "intake's outbox to reach the bus")
    if stage == "synthesis":
        await until(lambda: _true(len(ids & watch.decided.keys()) == len(ids)), timeout, "decisions")
        target = watch.published(ids)

        async def done() -> int:
            return await counted_in_synthesis(stack, target)
    else:
        target = ids

        async def done() -> int:
            return len(ids & watch.decided.keys())

    started = phases["backlog"] = time.perf_counter()
    for replica in range(replicas):
        stack.start_service(stage, replica, wait=False)
    progress: list[tuple[float, int]] = []
    while (not progress or progress[-1][1] < len(target)) and time.perf_counter() - started < timeout:
        progress.append((time.perf_counter(), await done()))
        await asyncio.sleep(0.05)
    if progress[-1][1] < len(target):
        await watch.stop()
        raise TimeoutError(f"{stage} drained {progress[-1][1]} of {len(target)} in {timeout:.0f}s")
    rate = _rate_between(progress, 0.1 * len(target), 0.9 * len(target))
    phases["drained"] = time.perf_counter()
    for replica in range(1, replicas):
        stack.processes.pop((stage, replica)).stop()
    for name in stopped:
        if name != stage:
            stack.start_service(name, wait=False)
    for name in stopped:
        await asyncio.to_thread(stack.processes[(name, 0)].wait_ready, 120)
    phases["restarted"] = time.perf_counter()
    published = watch.published(ids)
    await watch.stop()
    await until(lambda: _eq(counted_in_synthesis(stack, published), len(published)), timeout, "catching up")
    await until(lambda: _true(delivered(receiver, prefix) >= len(published)), timeout, "catching up", interval=0.5)
    phases["caught_up"] = time.perf_counter()
    steps = list(phases)
    return {"stage": stage, "replicas": replicas, "backlog": len(target), "per_s": rate,
            "seconds": progress[-1][0] - started,
            "phases_s": {step: phases[step] - phases[previous] for previous, step in zip(steps, steps[1:])}}


def _rate_between(progress: list[tuple[float, int]], low: float, high: float) -> float:
    """Items per second between the first sample at or above `low` and the first at or above `high`."""
    t_low, n_low = next((t, n) for t, n in progress if n >= low)
    t_high, n_high = next((t, n) for t, n in progress if n >= high)
    return (n_high - n_low) / (t_high - t_low) if t_high > t_low else float("nan")


async def _outbox_empty(stack: Stack, schema: str) -> bool:
    rows = await stack.sql(f"SELECT count(*) AS n FROM {schema}.outbox")  # nosec B608 # fixed schema name
    return rows[0]["n"] == 0


async def _true(value: bool) -> bool:
    return value


async def _eq(awaitable, expected: int) -> bool:
    return (await awaitable) >= expected


async def decision_latency(stack: Stack, network: Network, *, rate: float = 200.0, seconds: float = 20.0,
                           prefix: str, timeout: float = 120.0) -> dict[str, Any]:
    """Open loop at `rate` contributions/s, one contribution per request (as a form or a Decidim hook
    sends them): latency from the scheduled send to the decision on the bus, so that a slow answer
    does not hide queueing (no coordinated omission)."""
    watch = await DecisionWatch().start(stack)
    rng = random.Random(11)  # nosec B311 # seeded, reproducible load, not a secret
    territories = list(network.keys)
    total = int(rate * seconds)
    sent_at: dict[str, float] = {}
    failures: list[str] = []

    in_flight = asyncio.Semaphore(64)  # a client's connection pool degrades with thousands of waiting requests

    async def send(client: aiohttp.ClientSession, seq: int, scheduled: float) -> None:
        territory = territories[seq % len(territories)]
        item = contribution(seq, rng, prefix=prefix)
        async with in_flight:  # a send delayed here still counts from its scheduled time
            try:
                [cid] = await post_batch(client, stack, network.keys[territory], [item])
                sent_at[cid] = scheduled
            except (RuntimeError, ValueError) as exc:
                failures.append(str(exc))

    cpu_before = cpu_sample(_parts_with_load_generator(stack))
    async with load_client(64, 60) as client:
        started = time.perf_counter()
        tasks = []
        for seq in range(total):
            scheduled = started + seq / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(client, seq, scheduled)))
        await asyncio.gather(*tasks)
    try:
        await until(lambda: _true(all(cid in watch.decided for cid in sent_at)), timeout, "decisions")
    except TimeoutError:
        pass
    spent = cpu_by_part(cpu_before, cpu_sample(_parts_with_load_generator(stack)))
    window_s = time.perf_counter() - started
    decided_at = {cid: at for cid, (_, at) in watch.decided.items()}
    await watch.stop()
    latencies, undecided = decision_latencies_ms(sent_at, decided_at, len(failures), window_s)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if len(latencies) else (float("nan"),) * 3
    return {"offered_per_s": rate, "sent": len(sent_at) + len(failures), "decided": len(latencies) - undecided,
            "undecided": undecided, "failed_requests": len(failures),
            "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "max": float(latencies.max()) if len(latencies) else float("nan"),
            # how much of the machine this rate takes, the bench's own load generator included
            "cores_busy": sum(spent.values()) / window_s, "cores": os.cpu_count(),
            "cpu_s_per_1000_by_part": {part: seconds / max(1, len(sent_at)) * 1000
                                       for part, seconds in spent.items()}}


def decision_latencies_ms(sent_at: dict[str, float], decided_at: dict[str, float], refused: int,
                          window_s: float) -> tuple[np.ndarray, int]:
    """One latency per contribution sent, and how many were never decided: a decided one from its scheduled
    send to its decision; one still undecided when the window closes, or refused by intake, counts as the
    whole window, so that a pipeline that stops deciding cannot make its percentiles look better."""
    decided = [(decided_at[cid] - at) * 1000 for cid, at in sent_at.items() if cid in decided_at]
    undecided = len(sent_at) - len(decided) + refused
    return np.array(decided + [window_s * 1000] * undecided, dtype=float), undecided


def _parts_with_load_generator(stack: Stack) -> dict[str, list[int]]:
    return {**stack.pids_by_part(), "load generator": [os.getpid()]}


async def webhook_fan_out(stack: Stack, receiver: ReceiverProcess, *, subscriptions: int = 1000,
                          contributions: int = 20, timeout: float = 600.0) -> dict[str, Any]:
    """`subscriptions` subscriptions of one partner to the local receiver, all matching one territory;
    `contributions` published there: deliveries/s from the first delivery received to the last."""
    territory, prefix = "bench-diffusion", "fan-"
    key = stack.create_territory(territory, "FR")
    partner_key = stack.create_partner("bench-diffusion")
    semaphore = asyncio.Semaphore(16)

    async def subscribe(client: httpx.AsyncClient, index: int) -> None:
        async with semaphore:
            response = await client.post(f"{stack.url('notifications')}/v1/subscriptions",
                                         headers={"Authorization": f"Bearer {partner_key}"},
                                         json={"url": f"{receiver.url}/s/{index}",
                                               "filters": {"territories": [territory]}})
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(subscribe(client, index) for index in range(subscriptions)))
    rng = random.Random(5)  # nosec B311 # seeded, reproducible load, not a secret
    items = [clean_contribution(seq, rng, prefix=prefix) for seq in range(contributions)]
    async with load_client(4, 60) as client:
        ids = await post_batch(client, stack, key, items)
    watch_started = time.perf_counter()

    async def published_count() -> int:
        rows = await stack.sql("SELECT count(*) AS n FROM moderation.decisions WHERE contribution_id = ANY($1::uuid[]) "
                               "AND outcome IN ('published', 'published-redacted')", ids)
        return rows[0]["n"]

    # every published contribution: one delivery per fan-out subscription, one for the network-wide one
    await until(lambda: _decided(stack, ids), timeout, "fan-out contributions decided")
    expected = (await published_count()) * (subscriptions + 1)
    await until(lambda: _true(_requests(receiver, prefix) >= expected), timeout,
                f"{expected} webhook deliveries", interval=0.5)
    times = sorted(r[3] for r in receiver.records() if (r[2] or "").startswith(prefix))
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {"subscriptions": subscriptions, "deliveries": len(times), "deliveries_per_s": len(times) / span,
            "waited_s": time.perf_counter() - watch_started}


async def _decided(stack: Stack, ids: list[str]) -> bool:
    rows = await stack.sql("SELECT count(DISTINCT contribution_id) AS n FROM moderation.decisions "
                           "WHERE contribution_id = ANY($1::uuid[])", ids)
    return rows[0]["n"] >= len(ids)


def _requests(receiver: ReceiverProcess, prefix: str) -> int:
    return httpx.get(f"{receiver.url}/stats", params={"prefix": prefix}, timeout=30).json()["requests"]


# --- import --------------------------------------------------------------------------------------


def decidim_csv(rows: list[dict[str, Any]]) -> bytes:
    """Rows as a Decidim proposals export (`;`-separated, Decidim's flattened column names)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["id", "category/id", "category/name/fr", "title", "body", "created_at"])
    for row in rows:
        writer.writerow([row["external_id"], "", "", row["body"][:80], row["body"], "2025-03-01 10:00:00 +0100"])
    return out.getvalue().encode()


async def import_rows(stack: Stack, key: str, rows: list[dict[str, Any]], *, chunk: int = 10_000) -> str:
    """The import path measured: `POST /v1/imports` (Decidim exports of `chunk` rows) when intake offers
    it, else batches of 1,000 on `POST /v1/contributions`. Returns which path was taken."""
    async with httpx.AsyncClient(timeout=600) as client:
        paths = (await client.get(f"{stack.url('intake')}/openapi.json")).json().get("paths", {})
        if "/v1/imports" in paths:
            for start in range(0, len(rows), chunk):
                response = await client.post(
                    f"{stack.url('intake')}/v1/imports", headers={"Authorization": f"Bearer {key}"},
                    data={"format": "decidim", "source": "bench.palabre.example"},
                    files={"file": ("export.csv", decidim_csv(rows[start:start + chunk]), "text/csv")})
                if response.status_code >= 300:
                    raise RuntimeError(f"import refused: {response.status_code} {response.text[:500]}")
            return "POST /v1/imports (Decidim CSV)"
        queue = [rows[start:start + 1000] for start in range(0, len(rows), 1000)]

        async def sender(client: aiohttp.ClientSession) -> None:
            while queue:
                await post_batch(client, stack, key, queue.pop())

        async with load_client(2, 600) as batch_client:
            await asyncio.gather(*(sender(batch_client) for _ in range(2)))
        return "POST /v1/contributions, batches of 1,000"


async def import_throughput(stack: Stack, rows: int) -> dict[str, Any]:
    rng = random.Random(3)  # nosec B311 # seeded, reproducible load, not a secret
    key = stack.create_territory("bench-import", "FR")
    items = [contribution(seq, rng, prefix="imp-") for seq in range(rows)]
    for item in items:
        item.pop("language", None)  # exported files seldom say the language
    started = time.perf_counter()
    path = await import_rows(stack, key, items)
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "path": path}


# --- synthesis at scale --------------------------------------------------------------------------


def synthesis_at_scale(size: int, root: Path, timeout: float = 3600.0) -> dict[str, Any]:
    """The recompute worker's own code over `size` contributions held in PostgreSQL (`bench.synthesis_scale`),
    on a PostgreSQL of its own under `root`: loaded with COPY, then one recompute in a child process, timed by
    itself; its peak resident memory as the kernel accounts it (`wait4`; PostgreSQL's own memory apart)."""
    from palabre.embedded import Postgres

    postgres = Postgres(root / "pg")
    try:
        loaded = _run_child(["load", postgres.url, str(size)], root / "load.log", timeout)
        if "error" in loaded:
            return {"size": size, "error": f"load: {loaded['error']}"}
        recomputed = _run_child(["recompute", postgres.url], root / "recompute.log", timeout)
    finally:
        postgres.stop()
    if "error" in recomputed:
        return {"size": size, "error": recomputed["error"]}
    return {"size": size, "seconds": recomputed["seconds"], "peak_gib": recomputed["peak_kib"] / 2**20,
            "scopes": {scope: len(keys) for scope, keys in recomputed["scopes"].items()},
            "scope_keys": recomputed["scopes"], "stored": recomputed["stored"],
            "outbox_events": recomputed["outbox_events"], "load_rows_per_s": loaded["load_rows_per_s"],
            "recorded_contributions": recomputed["recorded_contributions"]}


def _run_child(args: list[str], log: Path, timeout: float) -> dict[str, Any]:
    """`python -m bench.synthesis_scale *args`, its output in `log`: the JSON of its last line, with its peak
    memory."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "bench.synthesis_scale", *args],  # nosec B603 # fixed argv
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while True:  # os.wait4, not Popen.poll: poll would reap the child and lose its resource usage
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            output = log.read_text(errors="replace")
            break
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            return {"error": f"did not finish within {timeout:.0f}s"}
        time.sleep(0.5)
    lines = output.strip().splitlines()
    try:
        figures = orjson.loads(lines[-1]) if process.returncode == 0 and lines else None
    except orjson.JSONDecodeError:
        figures = None
    if not isinstance(figures, dict):
        return {"error": f"exit {process.returncode}: {output[-500:]}"}
    return {**figures, "peak_kib": usage.ru_maxrss}


# --- database work per contribution ---------------------------------------------------------------

_LOGGED = re.compile(r"^(palabre-[a-z]+)\|(\d+)\|LOG:  (?:statement|execute [^:]*): (.*)$")


async def sql_per_contribution(stack: Stack, receiver: ReceiverProcess, network: Network, *, rate: float = 50.0,
                               seconds: float = 20.0, prefix: str, idle_s: float = 10.0,
                               timeout: float = 120.0) -> dict[str, Any]:
    """The SQL statements and commits the services run per contribution, read from PostgreSQL's own
    statement log while `rate` contributions/s (one per request) go through intake, moderation, synthesis
    and notifications, until the deliveries stop. What the services run when idle (their background loops),
    logged for `idle_s` first, is taken out in proportion to the time the load took ("net")."""
    log_path = stack.postgres.directory / "log"  # type: ignore[union-attr]
    await _log_statements(stack, "all")
    try:
        offset = log_path.stat().st_size
        await asyncio.sleep(idle_s)
        idle = _count_statements(_log_since(log_path, offset))
        offset = log_path.stat().st_size
        started = time.perf_counter()
        delivered_before = _requests(receiver, prefix)
        latency = await decision_latency(stack, network, rate=rate, seconds=seconds, prefix=prefix, timeout=timeout)
        deadline = time.perf_counter() + timeout
        last, still = -1, 0
        while time.perf_counter() < deadline and still < 3:  # until the deliveries stop growing
            now = _requests(receiver, prefix) - delivered_before
            still = still + 1 if now == last else 0
            last = now
            await asyncio.sleep(1.0)
        loaded_s = time.perf_counter() - started
        loaded = _count_statements(_log_since(log_path, offset))
    finally:
        await _log_statements(stack, "none")
    sent = max(1, latency["sent"])
    scale = loaded_s / idle_s

    def per(counts: dict[str, int], idle_counts: dict[str, int], net: bool) -> float:
        return sum(counts.values()) / sent - (sum(idle_counts.values()) * scale / sent if net else 0.0)

    return {"offered_per_s": rate, "sent": latency["sent"], "decided": latency["decided"],
            "window_s": loaded_s, "idle_statements_per_s": sum(idle[0].values()) / idle_s,
            "statements_per_contribution": {name: n / sent for name, n in sorted(loaded[0].items())},
            "commits_per_contribution": {name: n / sent for name, n in sorted(loaded[1].items())},
            "statements": per(loaded[0], idle[0], False), "commits": per(loaded[1], idle[1], False),
            "statements_net": per(loaded[0], idle[0], True), "commits_net": per(loaded[1], idle[1], True)}


def _log_since(path: Any, offset: int) -> list[str]:
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()


async def _log_statements(stack: Stack, which: str) -> None:
    for statement in (f"ALTER SYSTEM SET log_statement = '{which}'",  # nosec B608 # 'all' or 'none'
                      "ALTER SYSTEM SET log_line_prefix = '%a|%p|'", "SELECT pg_reload_conf()"):
        await stack.sql(statement)
    await asyncio.sleep(0.5)


def _count_statements(lines: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Statements (BEGIN and COMMIT included) and commits (a COMMIT, or a statement outside a transaction
    block) by application name."""
    statements: dict[str, int] = {}
    commits: dict[str, int] = {}
    in_block: set[str] = set()
    for line in lines:
        match = _LOGGED.match(line)
        if not match:
            continue
        name, pid, sql = match.group(1), match.group(2), match.group(3).strip().rstrip(";").upper()
        statements[name] = statements.get(name, 0) + 1
        if sql.startswith(("BEGIN", "START TRANSACTION")):
            in_block.add(pid)
        elif sql.startswith(("COMMIT", "ROLLBACK")):
            in_block.discard(pid)
            if sql.startswith("COMMIT"):
                commits[name] = commits.get(name, 0) + 1
        elif pid not in in_block:
            commits[name] = commits.get(name, 0) + 1
    return statements, commits
