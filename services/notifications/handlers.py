"""Notifications' bus consumers: public events become feed items, a public event log and webhook
deliveries (all in the transaction that records the events as processed, acked after its commit)."""

from collections.abc import Sequence
from typing import Any

from services.notifications import store
from services.notifications.domain import public_events
from services.notifications.domain.public_events import Links, PublicEvent
from shared.db import claim_new_events
from shared.events import (
    CloudEvent,
    ConsultationClosed,
    ConsultationOpened,
    ContributionHeld,
    ContributionPublished,
    ContributionRejected,
    SynthesisUpdated,
    TerritoryRegistered,
)


def short_type(event_type: str) -> str:
    """`palabre.contribution.published.v1` → `contribution.published` (what subscriptions filter on)."""
    parts = event_type.split(".")
    return ".".join(parts[1:-1]) if parts[0] == "palabre" and parts[-1].startswith("v") else event_type


def links_of(runtime) -> Links:
    settings = runtime.settings
    return Links(notifications=settings.base_url_of("notifications"),
                 synthesis=(settings.synthesis_url or settings.base_url_of("synthesis")).rstrip("/"))


def register(runtime) -> None:
    settings = runtime.settings
    max_bytes = settings.webhook_max_payload_bytes

    async def publish_to_partners(conn, consumer: str, events: Sequence[CloudEvent[Any]], build) -> list:
        """Claim the events, log what partners may see of them and fan it out; returns the new events."""
        new = await claim_new_events(conn, consumer, [e.id for e in events])
        fresh = [e for e in events if e.id in new]
        outgoing: list[PublicEvent] = [public for e in fresh for public in build(e)]
        await store.insert_public_events(conn, outgoing)
        await store.fan_out(conn, [p.event_id for p in outgoing])
        return fresh

    @runtime.consumer("palabre.contribution.published.>", "notifications-published")
    async def notify_published(events: list[CloudEvent[ContributionPublished]]) -> None:
        """Each published contribution: a feed item, its delivery to matching subscriptions, and the
        decision to the territory's own system."""
        links = links_of(runtime)
        async with runtime.transaction() as conn:
            fresh = await publish_to_partners(
                conn, "notifications-published", events,
                lambda e: [public_events.from_published(e, links, max_bytes),
                           public_events.decision_taken(e, max_bytes)])
            await store.insert_feed_items(conn, [
                (e.id, short_type(e.type), e.data.contribution_id, e.data.territory, e.data.country.upper(),
                 e.data.axis, e.data.title, e.data.text, e.model_dump(mode="json"), e.data.published_at)
                for e in fresh
            ])

    async def notify_decision(consumer: str, events: list[CloudEvent[Any]]) -> None:
        async with runtime.transaction() as conn:
            await publish_to_partners(conn, consumer, events,
                                      lambda e: [public_events.decision_taken(e, max_bytes)])

    @runtime.consumer("palabre.contribution.rejected.>", "notifications-rejected")
    async def notify_rejected(events: list[CloudEvent[ContributionRejected]]) -> None:
        """A rejection reaches only the territory's own system (outcome and reasons, no text)."""
        await notify_decision("notifications-rejected", events)

    @runtime.consumer("palabre.contribution.held.>", "notifications-held")
    async def notify_held(events: list[CloudEvent[ContributionHeld]]) -> None:
        """A contribution held for a person reaches only the territory's own system (no text)."""
        await notify_decision("notifications-held", events)

    @runtime.consumer("palabre.synthesis.updated.>", "notifications-syntheses")
    async def notify_synthesis(events: list[CloudEvent[SynthesisUpdated]]) -> None:
        """A new synthesis version: kept for the open data, and delivered to matching subscriptions."""
        links = links_of(runtime)
        async with runtime.transaction() as conn:
            fresh = await publish_to_partners(conn, "notifications-syntheses", events,
                                              lambda e: [public_events.from_synthesis(e, links, max_bytes)])
            await store.insert_syntheses(conn, [
                (e.data.scope, e.data.key.upper() if e.data.scope == "country" else e.data.key, (e.data.country or "").upper() or None, e.data.version,
                 e.data.contributions_count, e.data.computed_at, e.id)
                for e in fresh
            ])

    @runtime.consumer("palabre.consultation.>", "notifications-consultations")
    async def notify_consultation(events: list[CloudEvent[ConsultationOpened | ConsultationClosed]]) -> None:
        """A consultation opened or closed: delivered to matching subscriptions."""
        async with runtime.transaction() as conn:
            await publish_to_partners(conn, "notifications-consultations", events,
                                      lambda e: [public_events.from_consultation(e, max_bytes)])

    @runtime.consumer("palabre.territory.registered.>", "notifications-territories")
    async def keep_territories(events: list[CloudEvent[TerritoryRegistered]]) -> None:
        """Territories, for the licence of their open data."""
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, "notifications-territories", [e.id for e in events])
            latest = {e.data.territory: e for e in events if e.id in new}
            await store.upsert_territories(conn, [
                (e.data.territory, e.data.name, e.data.country.upper(), e.data.kind, e.data.licence)
                for e in latest.values()
            ])
