"""Synthesis's bus consumers: published contributions feed the live counts; registry events bring
frameworks; rejections after an appeal and erasures take a contribution back out. Decisions apply in the
order of their time, not of their arrival (`shared.decision_order`)."""

from typing import Any

from services.synthesis import commands, store
from services.synthesis.classifiers import ClassifierCache
from shared.db import claim_new_events
from shared.events import (
    AxisCorrected,
    CloudEvent,
    ConsultationOpened,
    ContributionWithdrawn,
    TerritoryRegistered,
)


async def fresh(conn, consumer: str, events: list[CloudEvent[Any]]) -> list[CloudEvent[Any]]:
    """The events `consumer` has not processed yet, recorded as processed (in the caller's transaction)."""
    new = await claim_new_events(conn, consumer, [e.id for e in events])
    return [e for e in events if e.id in new]


def register(runtime, classifiers: ClassifierCache) -> None:
    @runtime.consumer("palabre.territory.registered.>", "synthesis-territories")
    async def record_territories(events: list[CloudEvent[TerritoryRegistered]]) -> None:
        """Keeps territory names and countries for the network, country and territory scopes."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "synthesis-territories", [e.id for e in events])
            for event in events:
                if event.id in new:
                    await store.upsert_territory(conn, event.data)

    @runtime.consumer("palabre.consultation.opened.>", "synthesis-consultations")
    async def record_consultations(events: list[CloudEvent[ConsultationOpened]]) -> None:
        """Keeps each consultation's framework: its axes are what contributions are classified into."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "synthesis-consultations", [e.id for e in events])
            for event in events:
                if event.id in new:
                    await store.upsert_consultation(conn, event.data)

    @runtime.consumer("palabre.contribution.published.>", "synthesis-published")
    async def count_published(events: list[CloudEvent[Any]]) -> None:
        """Adds each published contribution to the live counts, with its axis (the source's, or classified);
        one published anew (redacted) takes its new text."""
        async with runtime.transaction() as conn:
            await commands.apply_decisions(conn, await fresh(conn, "synthesis-published", events), classifiers)

    @runtime.consumer("palabre.contribution.axis-corrected.>", "synthesis-axis-corrections")
    async def record_axis_corrections(events: list[CloudEvent[AxisCorrected]]) -> None:
        """Moves each contribution a moderator placed on another axis, and learns from it; the corrections
        made through this service's own API are already applied."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "synthesis-axis-corrections", [e.id for e in events])
            await commands.apply_axis_corrections(
                conn, [e.data for e in events if e.id in new and e.source != commands.SOURCE])

    @runtime.consumer("palabre.contribution.rejected.>", "synthesis-rejected")
    async def withdraw_rejected(events: list[CloudEvent[Any]]) -> None:
        """A contribution rejected after it was published (on appeal) leaves the synthesis."""
        async with runtime.transaction() as conn:
            await commands.apply_decisions(conn, await fresh(conn, "synthesis-rejected", events), classifiers)

    @runtime.consumer("palabre.contribution.withdrawn.>", "synthesis-withdrawn")
    async def withdraw_erased(events: list[CloudEvent[ContributionWithdrawn]]) -> None:
        """An erased contribution leaves the synthesis, and its text every stored synthesis version."""
        async with runtime.transaction() as conn:
            await commands.apply_decisions(conn, await fresh(conn, "synthesis-withdrawn", events), classifiers)
