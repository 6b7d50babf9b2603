"""Intake's bus consumers: it follows the decisions, so a territory system can ask what became of its
contribution."""

from typing import Any

from shared.db import claim_new_events
from shared.events import CloudEvent, ContributionHeld, ContributionPublished, ContributionRejected


def register(runtime) -> None:
    for model in (ContributionPublished, ContributionRejected, ContributionHeld):
        durable = f"intake-{model.subject_prefix.rsplit('.', 1)[-1]}"

        @runtime.consumer(f"{model.subject_prefix}.>", durable,
                          description=f"Records {model.event_type} as the contribution's status")
        async def record_decisions(events: list[CloudEvent[Any]], durable: str = durable) -> None:
            async with runtime.db.acquire() as conn, conn.transaction():
                new = await claim_new_events(conn, durable, [e.id for e in events])
                await apply(conn, [e for e in events if e.id in new])


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
