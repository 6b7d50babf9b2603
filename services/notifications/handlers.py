"""Notifications' bus consumers: public events become feed items, a public event log and webhook
deliveries (all in the transaction that records the events as processed, acked after its commit).
Decisions apply in the order of their time, not of their arrival (`shared.decision_order`)."""

from collections.abc import Sequence
from typing import Any

from services.notifications import store
from services.notifications.domain import public_events
from services.notifications.domain.public_events import Links, PublicEvent
from shared.db import apply_in_order, claim_new_events
from shared.decision_order import Change
from shared.events import (
    CloudEvent,
    ConsultationClosed,
    ConsultationOpened,
    ContributionHeld,
    ContributionPublished,
    ContributionRejected,
    ContributionWithdrawn,
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


async def apply_decisions(conn, fresh: Sequence[CloudEvent[Any]], links: Links, max_bytes: int) -> None:
    """Apply new decision events (published, rejected, held, withdrawn), whatever order they arrive in: per
    contribution, only a decision later than the one applied so far changes what is public."""
    outgoing = [public_events.decision_taken(e, max_bytes) for e in fresh
                if not isinstance(e.data, ContributionWithdrawn)]
    forget, keep, to_recipients, feed_rows = [], [], [], []
    for applied in await apply_in_order(conn, fresh):
        event, contribution_id = applied.event, applied.contribution_id
        if applied.change in (Change.PUBLISH, Change.UPDATE):
            public = public_events.from_published(event, links, max_bytes, update=applied.change is Change.UPDATE)
            outgoing.append(public)
            keep.append(public.event_id)
            if applied.change is Change.UPDATE:
                to_recipients.append((public.event_id, contribution_id))
            data = event.data
            feed_rows.append((public.event_id, short_type(event.type), contribution_id, data.territory,
                              data.country.upper(), data.axis, data.title, data.text, event.model_dump(mode="json"),
                              data.published_at))
        elif applied.change is Change.WITHDRAW:
            public = public_events.withdrawn(event)
            outgoing.append(public)
            to_recipients.append((public.event_id, contribution_id))
        if applied.change is not Change.NONE or applied.mark.erased:
            forget.append(contribution_id)
    await store.insert_public_events(conn, outgoing)
    await store.fan_out(conn, [p.event_id for p in outgoing if p.event_type != public_events.CONTRIBUTION_WITHDRAWN])
    await store.fan_out_to_recipients(conn, to_recipients)
    await store.forget_texts(conn, forget, keep=keep)
    await store.insert_feed_items(conn, feed_rows)


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

    async def decide(consumer: str, events: list[CloudEvent[Any]]) -> None:
        async with runtime.transaction() as conn:
            new = await claim_new_events(conn, consumer, [e.id for e in events])
            await apply_decisions(conn, [e for e in events if e.id in new], links_of(runtime), max_bytes)

    @runtime.consumer("palabre.contribution.published.>", "notifications-published")
    async def notify_published(events: list[CloudEvent[ContributionPublished]]) -> None:
        """Each published contribution: a feed item, its delivery to matching subscriptions (or, published
        again under a later decision, `contribution.updated`), and the decision to the territory's own system."""
        await decide("notifications-published", events)

    @runtime.consumer("palabre.contribution.rejected.>", "notifications-rejected")
    async def notify_rejected(events: list[CloudEvent[ContributionRejected]]) -> None:
        """A rejection reaches the territory's own system (outcome and reasons, no text); a published
        contribution rejected later leaves the feeds, and `contribution.withdrawn` goes to its recipients."""
        await decide("notifications-rejected", events)

    @runtime.consumer("palabre.contribution.held.>", "notifications-held")
    async def notify_held(events: list[CloudEvent[ContributionHeld]]) -> None:
        """A contribution held for a person reaches only the territory's own system (no text)."""
        await decide("notifications-held", events)

    @runtime.consumer("palabre.contribution.withdrawn.>", "notifications-withdrawn")
    async def notify_withdrawn(events: list[CloudEvent[ContributionWithdrawn]]) -> None:
        """An erased contribution: its text is deleted here, and `contribution.withdrawn` goes to every
        subscription that received it."""
        await decide("notifications-withdrawn", events)

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
