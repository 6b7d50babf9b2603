"""The dead-letter stream, for people: what is in it (`palabre dlq list`) and sending it again to the
consumer that gave up on it (`palabre dlq replay`), once what made it fail is mended.

A replay publishes the event again on its own subject, marked for that one consumer (`Palabre-Replay-For`:
the others of the subject ack it and leave it alone), then deletes the dead letter. It is idempotent:
replaying again finds nothing; a replay interrupted between the two steps publishes the same
`Nats-Msg-Id` again (JetStream drops it within its de-duplication window) and the consumer's
processed-event record makes it a no-op beyond. An event that fails again is dead-lettered again, with
its new reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError

from shared.bus import (
    CONTRIBUTION_HEADER,
    DEAD_LETTER_STREAM,
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_EVENT_ID,
    DLQ_REASON,
    DLQ_SUBJECT,
    MSG_ID_HEADER,
    REPLAY_FOR,
)

FETCH = 500
# JetStream's error codes for a sequence that holds no message: deleted inside the stream (10057), or
# outside what the stream still holds, e.g. below its first sequence once the oldest letters are gone (10043)
ALREADY_DELETED = frozenset({10057, 10043})


@dataclass(frozen=True)
class DeadLetter:
    seq: int  # in the dead-letter stream
    consumer: str
    subject: str  # where the event was published
    reason: str
    deliveries: int
    event_id: str | None
    contribution_id: str | None
    dead_lettered_at: datetime
    data: bytes


async def dead_letters(js: JetStreamContext) -> list[DeadLetter]:
    """Every message of the dead-letter stream, oldest first (read by a consumer that acks nothing)."""
    info = await js.stream_info(DEAD_LETTER_STREAM.name)
    if not info.state.messages:
        return []
    subscription = await js.pull_subscribe(
        f"{DEAD_LETTER_STREAM.subjects[0]}", stream=DEAD_LETTER_STREAM.name,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30.0))
    found: list[DeadLetter] = []
    try:
        while len(found) < info.state.messages:
            try:
                messages = await subscription.fetch(FETCH, timeout=2)
            except TimeoutError:
                break
            for msg in messages:
                headers = msg.headers or {}
                found.append(DeadLetter(
                    seq=msg.metadata.sequence.stream, consumer=headers.get(DLQ_CONSUMER) or msg.subject.split(".")[-1],
                    subject=headers.get(DLQ_SUBJECT, ""), reason=headers.get(DLQ_REASON, ""),
                    deliveries=int(headers.get(DLQ_DELIVERIES) or 0), event_id=headers.get(DLQ_EVENT_ID),
                    contribution_id=headers.get(CONTRIBUTION_HEADER),
                    dead_lettered_at=msg.metadata.timestamp, data=msg.data))
            if not messages or messages[-1].metadata.num_pending == 0:
                break
    finally:
        await subscription.unsubscribe()
    return found


@dataclass(frozen=True)
class Group:
    consumer: str
    subject: str
    reason: str
    count: int
    oldest: datetime
    newest: datetime


def grouped(letters: list[DeadLetter]) -> list[Group]:
    """Dead letters by consumer, subject and reason, the largest groups first."""
    groups: dict[tuple[str, str, str], list[DeadLetter]] = defaultdict(list)
    for letter in letters:
        groups[(letter.consumer, letter.subject, letter.reason)].append(letter)
    result = [Group(consumer, subject, reason, len(items), min(i.dead_lettered_at for i in items),
                    max(i.dead_lettered_at for i in items))
              for (consumer, subject, reason), items in groups.items()]
    return sorted(result, key=lambda g: (-g.count, g.oldest))


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcards: `*` one token, `>` one or more at the end."""
    pattern_tokens, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(pattern_tokens)


DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `7d` (that long ago) or an ISO 8601 time with its time zone."""
    now = now or datetime.now(UTC)
    found = DURATION.match(text.strip())
    if found:
        amount, unit = int(found.group(1)), found.group(2)
        return now - timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone (write e.g. 2026-03-01T10:00:00+01:00, or 2h)")
    return moment


def chosen(letters: list[DeadLetter], *, subject: str | None = None, since: datetime | None = None,
           consumer: str | None = None) -> list[DeadLetter]:
    return [letter for letter in letters
            if (subject is None or subject_matches(subject, letter.subject))
            and (since is None or letter.dead_lettered_at >= since)
            and (consumer is None or letter.consumer == consumer)]


async def replay(js: JetStreamContext, letters: list[DeadLetter]) -> int:
    """Publish each dead letter again for its consumer, then delete it; returns how many were replayed."""
    replayed = 0
    for letter in letters:
        if not letter.subject:  # not a dead letter Palabre wrote: left for a person to look at
            continue
        headers = {MSG_ID_HEADER: f"dlq-replay/{letter.seq}", REPLAY_FOR: letter.consumer}
        if letter.contribution_id:
            headers[CONTRIBUTION_HEADER] = letter.contribution_id
        await js.publish(letter.subject, letter.data, headers=headers)
        try:
            await js.delete_msg(DEAD_LETTER_STREAM.name, letter.seq)
        except APIError as exc:
            if exc.err_code not in ALREADY_DELETED:  # else deleted by a replay that ran meanwhile
                raise
        replayed += 1
    return replayed
