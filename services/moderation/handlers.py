"""Moderation's bus consumers: registry events keep policies and frameworks; submissions get moderated."""

from typing import Any

from services.moderation import commands, store
from services.moderation.checks import CheckRunner
from services.moderation.flood_windows import FloodWindows
from shared.db import claim_new_events
from shared.events import CloudEvent, ConsultationOpened, ContributionWithdrawn, TerritoryRegistered


def register(runtime, checks: CheckRunner) -> None:
    flood_windows = FloodWindows()

    @runtime.consumer("palabre.territory.registered.>", "moderation-territories")
    async def record_territories(events: list[CloudEvent[TerritoryRegistered]]) -> None:
        """Keeps each territory's moderation mode and automatic-rejection grounds."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "moderation-territories", [e.id for e in events])
            for event in events:
                if event.id in new:
                    await store.upsert_territory(conn, event.data)

    @runtime.consumer("palabre.consultation.opened.>", "moderation-consultations")
    async def record_consultations(events: list[CloudEvent[ConsultationOpened]]) -> None:
        """Keeps each consultation's framework (for the off-topic check)."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "moderation-consultations", [e.id for e in events])
            for event in events:
                if event.id in new:
                    await store.upsert_consultation(conn, event.data)

    @runtime.consumer("palabre.contribution.submitted.>", "moderation-submitted")
    async def moderate(events: list[CloudEvent[Any]]) -> None:
        """Runs the charter checks over each batch of submitted contributions and emits the decisions."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "moderation-submitted", [e.id for e in events])
            await commands.moderate_submitted(conn, [e for e in events if e.id in new], flood_windows,
                                              check=checks.check)

    @runtime.consumer("palabre.contribution.withdrawn.>", "moderation-withdrawn")
    async def erase(events: list[CloudEvent[ContributionWithdrawn]]) -> None:
        """An erased contribution's texts leave moderation; its decisions stay, and it can be decided no more."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "moderation-withdrawn", [e.id for e in events])
            await store.erase(conn, [(e.data.contribution_id, e.data.decision_id, e.data.withdrawn_at)
                                     for e in events if e.id in new and e.data.reason == "erased"])
