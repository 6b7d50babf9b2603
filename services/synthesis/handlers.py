"""Synthesis's bus consumers: published contributions feed the live counts; registry events bring
frameworks; rejections after an appeal and erasures take a contribution back out. Decisions apply in the
order of their time, not of their arrival (`shared.decision_order`)."""

from typing import Any

from services.synthesis import commands, store
from services.synthesis.classifiers import ClassifierCache
from shared.events import (
    AxisCorrected,
    CloudEvent,
    ConsultationOpened,
    ContributionPublished,
    ContributionRejected,
    ContributionWithdrawn,
    TerritoryRegistered,
)


def register(runtime, classifiers: ClassifierCache) -> None:
    @runtime.consumer(TerritoryRegistered, durable="synthesis-territories")
    async def record_territories(conn, territories: list[TerritoryRegistered]) -> None:
        """Keeps territory names and countries for the network, country and territory scopes."""
        for territory in territories:
            await store.upsert_territory(conn, territory)

    @runtime.consumer(ConsultationOpened, durable="synthesis-consultations")
    async def record_consultations(conn, consultations: list[ConsultationOpened]) -> None:
        """Keeps each consultation's framework: its axes are what contributions are classified into."""
        for consultation in consultations:
            await store.upsert_consultation(conn, consultation)

    @runtime.consumer(ContributionPublished, durable="synthesis-published", envelopes=True)
    async def count_published(conn, events: list[CloudEvent[ContributionPublished]]) -> None:
        """Adds each published contribution to the live counts, with its axis (the source's, or classified);
        one published anew (redacted) takes its new text."""
        await commands.apply_decisions(conn, events, classifiers)

    @runtime.consumer(AxisCorrected, durable="synthesis-axis-corrections")
    async def record_axis_corrections(conn, corrections: list[AxisCorrected]) -> None:
        """Moves each contribution a moderator placed on another axis, and learns from it."""
        await commands.apply_axis_corrections(conn, corrections)

    @runtime.consumer(ContributionRejected, durable="synthesis-rejected", envelopes=True)
    async def withdraw_rejected(conn, events: list[CloudEvent[Any]]) -> None:
        """A contribution rejected after it was published (on appeal) leaves the synthesis."""
        await commands.apply_decisions(conn, events, classifiers)

    @runtime.consumer(ContributionWithdrawn, durable="synthesis-withdrawn", envelopes=True)
    async def withdraw_erased(conn, events: list[CloudEvent[ContributionWithdrawn]]) -> None:
        """An erased contribution leaves the synthesis, and its text every stored synthesis version."""
        await commands.apply_decisions(conn, events, classifiers)
