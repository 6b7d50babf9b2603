"""Intake's bus consumers: it follows the decisions, so a territory system can ask what became of its
contribution; and it takes in the contributions territory systems propose on the bus."""

from typing import Any

from services.intake import bus_intake, store
from shared.bus import BatchOutcome
from shared.events import ContributionHeld, ContributionProposed, ContributionPublished, ContributionRejected

Decided = ContributionPublished | ContributionRejected | ContributionHeld


def register(runtime) -> None:
    for model in (ContributionPublished, ContributionRejected, ContributionHeld):
        @runtime.consumer(model, durable=f"intake-{model.subject_prefix.rsplit('.', 1)[-1]}",
                          description=f"Records {model.event_type} as the contribution's status")
        async def record_decisions(conn, decided: list[Decided]) -> None:
            await apply(conn, decided)

    @runtime.message_consumer(ContributionProposed, durable=bus_intake.DURABLE,
                              description="Contributions proposed by territory systems")
    async def intake_proposed(messages: list[Any]) -> BatchOutcome:
        """The subject names the territory, so the messages of a fetch are taken in by territory (a re-sent
        contribution is a duplicate)."""
        return await bus_intake.take_in(messages, pool=runtime.db, bus=runtime.bus)


async def apply(conn, decided: list[Decided]) -> None:
    rows = []
    for data in decided:
        decision = data.decision
        published = isinstance(data, ContributionPublished)
        rows.append(store.DecisionRow(
            id=data.contribution_id, status=decision.outcome.value, decision=decision.model_dump(mode="json"),
            decided_at=decision.decided_at, published_title=data.title if published else None,
            published_text=data.text if published else None,
        ))
    await store.apply_decisions(conn, rows)
