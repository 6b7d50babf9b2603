"""Moderation's bus consumers: registry events keep policies and frameworks; submissions get moderated."""

from services.moderation import commands, store
from services.moderation.checks import CheckRunner
from services.moderation.flood_windows import FloodWindows
from shared.events import ConsultationOpened, ContributionSubmitted, ContributionWithdrawn, TerritoryRegistered


def register(runtime, checks: CheckRunner) -> None:
    flood_windows = FloodWindows()

    @runtime.consumer(TerritoryRegistered, durable="moderation-territories")
    async def record_territories(conn, territories: list[TerritoryRegistered]) -> None:
        """Keeps each territory's moderation mode and automatic-rejection grounds."""
        for territory in territories:
            await store.upsert_territory(conn, territory)

    @runtime.consumer(ConsultationOpened, durable="moderation-consultations")
    async def record_consultations(conn, consultations: list[ConsultationOpened]) -> None:
        """Keeps each consultation's framework (for the off-topic check)."""
        for consultation in consultations:
            await store.upsert_consultation(conn, consultation)

    @runtime.consumer(ContributionSubmitted, durable="moderation-submitted")
    async def moderate(conn, submitted: list[ContributionSubmitted]) -> None:
        """Runs the charter checks over each batch of submitted contributions and emits the decisions."""
        await commands.moderate_submitted(conn, submitted, flood_windows, check=checks.check)

    @runtime.consumer(ContributionWithdrawn, durable="moderation-withdrawn")
    async def erase(conn, withdrawn: list[ContributionWithdrawn]) -> None:
        """An erased contribution's texts leave moderation; its decisions stay, and it can be decided no more."""
        await store.erase(conn, [(w.contribution_id, w.decision_id, w.withdrawn_at)
                                 for w in withdrawn if w.reason == "erased"])
