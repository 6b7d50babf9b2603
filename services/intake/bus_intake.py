"""Bus intake: contributions that territory systems publish on `palabre.intake.<territory>`.

The event is a CloudEvent of type `palabre.contribution.proposed.v1` whose `data` holds the fields of
one contribution as the HTTP API takes them (`shared.events.ContributionProposed`). The territory is the
one of the subject, which NATS permissions tie to the publisher's credentials; a `territory` in the payload is
refused, never believed. Invalid events go to the dead-letter stream with their reason; valid ones are
stored like HTTP input (a re-sent contribution is a duplicate and changes nothing). While the database is
away the consumer holds the events JetStream has taken and waits (`PullConsumer`): none is dead-lettered
for an outage.
"""

from collections import defaultdict
from typing import Any

from pydantic import ValidationError

from services.intake import commands, store
from shared.bus import BatchOutcome, Bus, InfrastructureUnavailable, not_the_events_fault, retry_delay_s
from shared.events import CloudEvent, ContributionProposed, envelope_model
from shared.logging import get_logger

log = get_logger(__name__)

DURABLE = "intake-proposed"


def parse_proposed(raw: bytes) -> CloudEvent[ContributionProposed]:
    event = envelope_model(ContributionProposed).model_validate_json(raw)
    if event.type != ContributionProposed.event_type:
        raise ValueError(f"event type {event.type!r} is not {ContributionProposed.event_type!r}")
    return event


async def take_in(messages: list[Any], *, pool, bus: Bus) -> BatchOutcome:
    """Validate, store and ack one batch; what cannot be taken in is dead-lettered with its reason."""
    outcome = BatchOutcome()

    async def dead_letter(msg: Any, reason: str) -> None:
        await bus.dead_letter(msg, DURABLE, reason)
        await msg.ack()
        outcome.dead_lettered += 1

    by_territory: dict[str, list[tuple[Any, ContributionProposed]]] = defaultdict(list)
    for msg in messages:
        territory = ContributionProposed.territory_of(msg.subject)
        if territory is None:
            await dead_letter(msg, f"subject {msg.subject!r} is not "
                                   f"{ContributionProposed.subject_prefix}.<territory>")
            continue
        try:
            event = parse_proposed(msg.data)
        except ValidationError as exc:
            problems = "; ".join(f"/{'/'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                 for e in exc.errors(include_url=False)[:10])
            await dead_letter(msg, f"invalid event: {problems}")
            continue
        except ValueError as exc:
            await dead_letter(msg, f"invalid event: {_short(exc)}")
            continue
        by_territory[territory].append((msg, event.data))

    for slug, entries in by_territory.items():
        try:
            territory = await store.get_territory(pool, slug)
            if territory is None:
                for msg, _ in entries:
                    await dead_letter(msg, f"unknown territory {slug!r}")
                continue
            result = await commands.import_rows(pool, {"id": territory["id"], "country": territory["country"]},
                                                [item for _, item in entries])
        except Exception as exc:  # noqa: BLE001 - the database or the bus away: waited out; else retried
            if not_the_events_fault(exc):  # JetStream has taken them: an outage must not lose them
                raise InfrastructureUnavailable(_short(exc)) from exc
            for msg, _ in entries:
                await _nak_or_dead_letter(msg, bus, exc, outcome)
            continue
        refused = dict(result.errors)
        for index, (msg, _) in enumerate(entries):
            if index in refused:
                await dead_letter(msg, f"refused: {refused[index]}")
            else:
                await msg.ack()
                outcome.processed += 1
    return outcome


async def _nak_or_dead_letter(msg: Any, bus: Bus, exc: Exception, outcome: BatchOutcome) -> None:
    deliveries = msg.metadata.num_delivered
    if deliveries >= bus.settings.max_deliver:
        await bus.dead_letter(msg, DURABLE, f"failed {deliveries} times: {_short(exc)}")
        await msg.ack()
        outcome.dead_lettered += 1
    else:
        log.warning("proposed contribution failed, will retry", deliveries=deliveries, error=_short(exc))
        await msg.nak(delay=retry_delay_s(deliveries))
        outcome.retried += 1


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 1500 else text[:1500] + "…"

