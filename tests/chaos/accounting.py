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


import httpx
import nats
import orjson

from bench.load import contribution
from bench.measure import load_client, post_batch
from bench.receiver import ReceiverProcess
from bench.stack import Stack
from shared.bus import CONTRIBUTION_HEADER, DEAD_LETTER_STREAM, EVENTS_STREAM
from shared.events import contribution_id_for

FINAL = {"published", "published-redacted", "rejected", "held"}


class InBackground:
    """Sends in a thread of its own (`_send_all`); `join()` returns what was sent, seq -> territory, or
    raises what stopped it."""

    sent: dict[int, str]
    error: BaseException | None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._send_all())
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    def join(self, timeout: float = 600) -> dict[int, str]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{type(self).__name__} did not finish"
        if self.error:
            raise self.error
        return self.sent


@dataclass
class Load(InBackground):
    """Contributions sent in the background at a steady pace, each retried until intake accepts it."""

    stack: Stack
    keys: dict[str, str]
    count: int
    per_second: float = 150.0
    batch: int = 10
    attempts: int = 60  # each batch's tries while intake answers 5xx (about a minute)
    first: int = 0  # the first sequence number
    sent: dict[int, str] = field(default_factory=dict)  # seq -> territory
    error: BaseException | None = None

    async def _send_all(self) -> None:
        rng = random.Random(42)
        territories = list(self.keys)
        started = time.monotonic()
        async with load_client(4, 30) as client:
            for first in range(0, self.count, self.batch):
                territory = territories[(first // self.batch) % len(territories)]
                seqs = range(self.first + first, self.first + min(first + self.batch, self.count))
                await post_batch(client, self.stack, self.keys[territory], [contribution(s, rng) for s in seqs],
                                 attempts=self.attempts)
                self.sent.update(dict.fromkeys(seqs, territory))
                ahead = started + (first + self.batch) / self.per_second - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)



@dataclass
class BusLoad(InBackground):
    """Contributions proposed on the bus (`palabre.intake.<territory>`) with each territory's own NATS
    credentials, at a steady pace; one counts as sent once JetStream has acknowledged it."""

    credentials: dict[str, dict]  # territory -> its "nats" credentials
    count: int
    per_second: float = 20.0
    first: int = 0
    sent: dict[int, str] = field(default_factory=dict)
    error: BaseException | None = None

    async def _send_all(self) -> None:
        rng = random.Random(7)
        connections = {territory: await _connect_as(creds) for territory, creds in self.credentials.items()}
        territories = list(connections)
        started = time.monotonic()
        try:
            for index in range(self.count):
                seq = self.first + index
                territory = territories[index % len(territories)]
                event = {"specversion": "1.0", "id": f"chaos-proposed-{seq}", "source": "/chaos/territory-system",
                         "type": "palabre.contribution.proposed.v1", "time": "2026-03-01T10:00:00Z",
                         "data": contribution(seq, rng)}
                await connections[territory].jetstream(timeout=10).publish(
                    self.credentials[territory]["subject"], orjson.dumps(event), headers={"Nats-Msg-Id": event["id"]})
                self.sent[seq] = territory
                ahead = started + (index + 1) / self.per_second - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
        finally:
            for nc in connections.values():
                await nc.close()



async def _connect_as(credentials: dict) -> nats.NATS:
    """A territory system's connection; its user is known to nats-server a moment after registration."""
    for _ in range(100):
        try:
            return await nats.connect(credentials["servers"], user=credentials["user"],
                                      password=credentials["password"], inbox_prefix=credentials["inbox_prefix"],
                                      connect_timeout=5, max_reconnect_attempts=-1)
        except (nats.errors.Error, OSError):
            await asyncio.sleep(0.2)
    raise AssertionError("the territory's NATS user was never accepted")


def register_territory(stack: Stack, slug: str, country: str) -> dict:
    """A territory, with its API key and its bus credentials (`nats`)."""
    response = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=60,
                          json={"id": slug, "name": slug.title(), "kind": "commune", "country": country})
    assert response.status_code == 201, response.text
    return response.json()


async def dead_letters(stack: Stack) -> int:
    """How many messages the dead-letter stream holds."""
    nc = await stack.nats_connect()
    try:
        return (await nc.jetstream().stream_info(DEAD_LETTER_STREAM.name)).state.messages
    finally:
        await nc.close()


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


@dataclass
class Observed:
    """What the system holds about the contributions sent, read from each service's tables, the bus and
    the receiver (each keyed by contribution id)."""

    status: dict[str, str]  # intake's status
    decisions: dict[str, int]  # moderation's decisions
    announced: dict[str, Counter]  # events on the bus, by kind (submitted, published, ...)
    counted: set[str]  # in the synthesis's contributions
    synthesis_total: int  # the synthesis's counts over the territories of the run
    webhook_ids: dict[str, set[str]]  # the webhook-ids the receiver saw


def judge(sent: dict[int, str], seen: Observed) -> Report:
    """Every contribution sent exactly once everywhere: each fault named by sequence number, whether
    something is missing (under-counted) or there twice (over-counted)."""
    report = Report()
    ids = {seq: contribution_id_for(territory, str(seq)) for seq, territory in sent.items()}
    seq_of = {cid: seq for seq, cid in ids.items()}
    announced = defaultdict(Counter, seen.announced)
    report.missing("unknown to intake", [s for s, c in ids.items() if c not in seen.status])
    report.missing("without a final state", [s for s, c in ids.items() if seen.status.get(c) not in FINAL | {None}])
    report.outcomes = Counter(seen.status[c] for c in ids.values() if c in seen.status)

    report.missing("decided more than once", [seq_of[c] for c, n in seen.decisions.items() if n > 1 and c in seq_of],
                   permanent=True)
    report.missing("not decided", [s for s, c in ids.items() if not seen.decisions.get(c)])

    report.missing("submitted more than once on the bus",
                   [s for s, c in ids.items() if announced[c]["submitted"] > 1], permanent=True)
    report.missing("never submitted on the bus", [s for s, c in ids.items() if announced[c]["submitted"] == 0])
    decision_events = {c: sum(announced[c][k] for k in ("published", "rejected", "held")) for c in ids.values()}
    report.missing("announced more than once on the bus", [seq_of[c] for c, n in decision_events.items() if n > 1],
                   permanent=True)
    report.missing("never announced on the bus", [seq_of[c] for c, n in decision_events.items() if n == 0])

    published = {c for c in ids.values() if announced[c]["published"]}
    report.missing("published but not counted", [seq_of[c] for c in published - seen.counted])
    report.missing("counted but not published", [seq_of[c] for c in (seen.counted & set(seq_of)) - published])
    if seen.synthesis_total > len(published):
        report.problems.append(f"the synthesis counts {seen.synthesis_total} contributions for {len(published)} "
                               "published")
    elif seen.synthesis_total < len(published):
        report.problems.append(f"the synthesis counts {seen.synthesis_total} contributions for {len(published)} "
                               "published")

    report.missing("delivered under several webhook-ids",
                   [seq_of[c] for c, w in seen.webhook_ids.items() if len(w) > 1 and c in seq_of], permanent=True)
    report.missing("published but never delivered", [seq_of[c] for c in published if c not in seen.webhook_ids])
    report.missing("delivered but not published",
                   [seq_of[c] for c in seen.webhook_ids if c in seq_of and c not in published], permanent=True)
    return report


async def observe(stack: Stack, receiver: ReceiverProcess, sent: dict[int, str]) -> Observed:
    ids = [contribution_id_for(territory, str(seq)) for seq, territory in sent.items()]
    rows = await stack.sql("SELECT id::text AS id, status FROM intake.contributions WHERE id = ANY($1::uuid[])", ids)
    decisions = await stack.sql("SELECT contribution_id::text AS id, count(*) AS n FROM moderation.decisions "
                                "WHERE contribution_id = ANY($1::uuid[]) GROUP BY 1", ids)
    counted = await stack.sql("SELECT id::text AS id FROM synthesis.contributions WHERE id = ANY($1::uuid[])", ids)
    total = await stack.sql("SELECT coalesce(sum(n), 0) AS n FROM synthesis.counts WHERE territory = ANY($1)",
                            sorted(set(sent.values())))
    webhook_ids: dict[str, set[str]] = defaultdict(set)
    for webhook_id, contribution_id, _, _ in receiver.records():
        if contribution_id:
            webhook_ids[contribution_id].add(webhook_id)
    return Observed(status={r["id"]: r["status"] for r in rows}, decisions={r["id"]: r["n"] for r in decisions},
                    announced=await bus_announcements(stack), counted={r["id"] for r in counted},
                    synthesis_total=int(total[0]["n"]), webhook_ids=dict(webhook_ids))


async def audit(stack: Stack, receiver: ReceiverProcess, sent: dict[int, str]) -> Report:
    return judge(sent, await observe(stack, receiver, sent))


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
