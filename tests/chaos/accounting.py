"""Load under faults, and the accounting afterwards: every contribution sent (external_id = its sequence
number) must end in exactly one final state, be decided once, be announced once on the bus, be counted
once by the synthesis when published, and reach the subscribed receiver under exactly one webhook-id."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field


from bench.load import contribution
from bench.measure import load_client, post_batch
from bench.receiver import ReceiverProcess
from bench.stack import Stack
from shared.bus import CONTRIBUTION_HEADER, EVENTS_STREAM
from shared.events import contribution_id_for

FINAL = {"published", "published-redacted", "rejected", "held"}


@dataclass
class Load:
    """Contributions sent in the background at a steady pace, each retried until intake accepts it."""

    stack: Stack
    keys: dict[str, str]
    count: int
    per_second: float = 150.0
    batch: int = 10
    sent: dict[int, str] = field(default_factory=dict)  # seq -> territory
    error: BaseException | None = None

    def start(self) -> Load:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._send_all())
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    async def _send_all(self) -> None:
        rng = random.Random(42)
        territories = list(self.keys)
        started = time.monotonic()
        async with load_client(4, 30) as client:
            for first in range(0, self.count, self.batch):
                territory = territories[(first // self.batch) % len(territories)]
                seqs = range(first, min(first + self.batch, self.count))
                await post_batch(client, self.stack, self.keys[territory], [contribution(s, rng) for s in seqs])
                self.sent.update(dict.fromkeys(seqs, territory))
                ahead = started + (first + self.batch) / self.per_second - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)

    def join(self, timeout: float = 600) -> dict[int, str]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the load did not finish"
        if self.error:
            raise self.error
        return self.sent


def network(stack: Stack, receiver: ReceiverProcess, territories: list[tuple[str, str]]) -> dict[str, str]:
    """Territories with their keys, and one partner subscribed to everything on the receiver."""
    keys = {slug: stack.create_territory(slug, country) for slug, country in territories}
    partner = stack.create_partner("chaos-observatoire")
    stack.subscribe(partner, f"{receiver.url}/all")
    return keys


async def bus_announcements(stack: Stack) -> dict[str, Counter]:
    """For each contribution id, how many events of each kind the stream holds."""
    nc = await stack.nats_connect()
    js = nc.jetstream(timeout=30)
    durable = f"chaos-audit-{int(time.time() * 1000)}"
    found: dict[str, Counter] = defaultdict(Counter)
    try:
        subscription = await js.pull_subscribe("palabre.contribution.>", durable=durable, stream=EVENTS_STREAM.name)
        while (await subscription.consumer_info()).num_pending:
            for msg in await subscription.fetch(1000, timeout=10):
                contribution_id = (msg.headers or {}).get(CONTRIBUTION_HEADER)
                if contribution_id:
                    found[contribution_id][msg.subject.split(".")[2]] += 1
                await msg.ack()
        await js.delete_consumer(EVENTS_STREAM.name, durable)
    finally:
        await nc.close()
    return found


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    permanent: bool = False  # a duplicate does not heal by waiting
    outcomes: Counter = field(default_factory=Counter)

    def missing(self, what: str, seqs: list[int], *, permanent: bool = False) -> None:
        if seqs:
            shown = ", ".join(str(s) for s in sorted(seqs)[:40])
            self.problems.append(f"{len(seqs)} contributions {what}: seq {shown}{' …' if len(seqs) > 40 else ''}")
            self.permanent |= permanent


async def audit(stack: Stack, receiver: ReceiverProcess, sent: dict[int, str]) -> Report:
    report = Report()
    ids = {seq: contribution_id_for(territory, str(seq)) for seq, territory in sent.items()}
    seq_of = {cid: seq for seq, cid in ids.items()}
    rows = await stack.sql("SELECT id::text AS id, status FROM intake.contributions WHERE id = ANY($1::uuid[])",
                           list(ids.values()))
    status = {row["id"]: row["status"] for row in rows}
    report.missing("unknown to intake", [s for s, c in ids.items() if c not in status])
    report.missing("without a final state", [s for s, c in ids.items() if status.get(c) not in FINAL | {None}])
    report.outcomes = Counter(status.values())

    decisions = await stack.sql("SELECT contribution_id::text AS id, count(*) AS n FROM moderation.decisions "
                                "WHERE contribution_id = ANY($1::uuid[]) GROUP BY 1", list(ids.values()))
    decided = {row["id"]: row["n"] for row in decisions}
    report.missing("decided more than once", [seq_of[c] for c, n in decided.items() if n > 1], permanent=True)
    report.missing("not decided", [s for s, c in ids.items() if c not in decided])

    announced = await bus_announcements(stack)
    report.missing("submitted more than once on the bus",
                   [s for s, c in ids.items() if announced[c]["submitted"] > 1], permanent=True)
    decision_events = {c: sum(announced[c][k] for k in ("published", "rejected", "held")) for c in ids.values()}
    report.missing("announced more than once on the bus", [seq_of[c] for c, n in decision_events.items() if n > 1],
                   permanent=True)
    report.missing("never announced on the bus", [seq_of[c] for c, n in decision_events.items() if n == 0])

    published = {c for c in ids.values() if announced[c]["published"]}
    counted = await stack.sql("SELECT id::text AS id FROM synthesis.contributions WHERE id = ANY($1::uuid[])",
                              list(published))
    report.missing("published but not counted", [seq_of[c] for c in published - {r["id"] for r in counted}])
    territories = sorted(set(sent.values()))
    total = await stack.sql("SELECT coalesce(sum(n), 0) AS n FROM synthesis.counts WHERE territory = ANY($1)",
                            territories)
    if total[0]["n"] > len(published):
        report.problems.append(f"the synthesis counts {total[0]['n']} contributions for {len(published)} published")

    webhook_ids: dict[str, set[str]] = defaultdict(set)
    for webhook_id, contribution_id, _, _ in receiver.records():
        if contribution_id in seq_of:
            webhook_ids[contribution_id].add(webhook_id)
    report.missing("delivered under several webhook-ids",
                   [seq_of[c] for c, w in webhook_ids.items() if len(w) > 1], permanent=True)
    report.missing("published but never delivered", [seq_of[c] for c in published if c not in webhook_ids])
    report.missing("delivered but not published", [seq_of[c] for c in webhook_ids if c not in published],
                   permanent=True)
    return report


async def account(stack: Stack, receiver: ReceiverProcess, sent: dict[int, str], timeout: float = 300) -> Report:
    """Audit until everything has settled (or a permanent fault shows, or `timeout`); fail with the list."""
    deadline = time.monotonic() + timeout
    while True:
        report = await audit(stack, receiver, sent)
        if not report.problems:
            return report
        if report.permanent or time.monotonic() > deadline:
            raise AssertionError("after faults, not every contribution is accounted for:\n" +
                                 "\n".join(report.problems))
        await asyncio.sleep(2)
