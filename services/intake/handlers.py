"""Intake's bus consumers: it follows the decisions, so a territory system can ask what became of its
contribution."""

from typing import Any

from services.intake import bus_intake
from shared.bus import INTAKE_STREAM, BatchOutcome
from shared.db import claim_new_events
from shared.events import CloudEvent, ContributionHeld, ContributionPublished, ContributionRejected, envelope_model


def register(runtime) -> None:
    for model in (ContributionPublished, ContributionRejected, ContributionHeld):
        durable = f"intake-{model.subject_prefix.rsplit('.', 1)[-1]}"

        @runtime.consumer(f"{model.subject_prefix}.>", durable,
                          description=f"Records {model.event_type} as the contribution's status")
        async def record_decisions(events: list[CloudEvent[Any]], durable: str = durable) -> None:
            async with runtime.transaction() as conn:
                new = await claim_new_events(conn, durable, [e.id for e in events])
                await apply(conn, [e for e in events if e.id in new])

    register_bus_intake(runtime)


def register_bus_intake(runtime) -> None:
    """Contributions proposed on `palabre.intake.<territory>`: the subject names the territory, so the
    messages of a fetch are taken in by territory (a re-sent contribution is a duplicate)."""

    @runtime.message_consumer("palabre.intake.*", bus_intake.DURABLE, stream=INTAKE_STREAM,
                              description="Contributions proposed by territory systems "
                              "(palabre.contribution.proposed.v1)",
                              payload=envelope_model(bus_intake.ContributionProposed))
    async def intake_proposed(messages: list[Any]) -> BatchOutcome:
        return await bus_intake.take_in(messages, pool=runtime.db, bus=runtime.bus)


async def apply(conn, events: list[CloudEvent[Any]]) -> None:
    from services.intake import store

    rows = []
    for event in events:
        data = event.data
        decision = data.decision
        published = isinstance(data, ContributionPublished)
        rows.append((
            data.contribution_id, decision.outcome.value, decision.model_dump(mode="json"), decision.decided_at,
            data.title if published else None, data.text if published else None,
        ))
    await store.apply_decisions(conn, rows)
