"""Notifications' bus consumers: public events become feed items, a public event log and webhook
deliveries. Decisions apply in the order of their time, not of their arrival (`shared.decision_order`)."""

from collections.abc import Sequence
from typing import Any

from services.notifications import store
from services.notifications.domain import public_events
from services.notifications.domain.public_events import Links, PublicEvent
from shared.db import apply_in_order
from shared.decision_order import Change
from shared.events import (
    AxesPlaced,
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
    """Apply new decision events (published, rejected, held, withdrawn) in one transaction, whatever order
    they arrive in: per contribution, only a decision later than the one applied so far changes what is
    public."""
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
            feed_rows.append(store.FeedItemRow(
                event_id=public.event_id, event_type=short_type(event.type), contribution_id=contribution_id,
                territory=data.territory, country=data.country.upper(), axis=data.axis, title=data.title,
                text=data.text, payload=event.model_dump(mode="json"), occurred_at=data.published_at))
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

    async def publish_to_partners(conn, events: Sequence[CloudEvent[Any]], build) -> None:
        """Log what partners may see of the events and fan it out."""
        outgoing: list[PublicEvent] = [public for e in events for public in build(e)]
        await store.insert_public_events(conn, outgoing)
        await store.fan_out(conn, [p.event_id for p in outgoing])

    @runtime.consumer(ContributionPublished, durable="notifications-published", envelopes=True)
    async def notify_published(conn, events: list[CloudEvent[ContributionPublished]]) -> None:
        """Each published contribution: a feed item, its delivery to matching subscriptions (or, published
        again under a later decision, `contribution.updated`), and the decision to the territory's own system."""
        await apply_decisions(conn, events, links_of(runtime), max_bytes)

    @runtime.consumer(ContributionRejected, durable="notifications-rejected", envelopes=True)
    async def notify_rejected(conn, events: list[CloudEvent[ContributionRejected]]) -> None:
        """A rejection reaches the territory's own system (outcome and reasons, no text); a published
        contribution rejected later leaves the feeds, and `contribution.withdrawn` goes to its recipients."""
        await apply_decisions(conn, events, links_of(runtime), max_bytes)

    @runtime.consumer(ContributionHeld, durable="notifications-held", envelopes=True)
    async def notify_held(conn, events: list[CloudEvent[ContributionHeld]]) -> None:
        """A contribution held for a person reaches only the territory's own system (no text)."""
        await apply_decisions(conn, events, links_of(runtime), max_bytes)

    @runtime.consumer(ContributionWithdrawn, durable="notifications-withdrawn", envelopes=True)
    async def notify_withdrawn(conn, events: list[CloudEvent[ContributionWithdrawn]]) -> None:
        """An erased contribution: its text is deleted here, and `contribution.withdrawn` goes to every
        subscription that received it."""
        await apply_decisions(conn, events, links_of(runtime), max_bytes)

    @runtime.consumer(SynthesisUpdated, durable="notifications-syntheses", envelopes=True)
    async def notify_synthesis(conn, events: list[CloudEvent[SynthesisUpdated]]) -> None:
        """A new synthesis version: kept for the open data, and delivered to matching subscriptions."""
        links = links_of(runtime)
        await publish_to_partners(conn, events, lambda e: [public_events.from_synthesis(e, links, max_bytes)])
        await store.insert_syntheses(conn, [
            store.SynthesisVersionRow(
                scope=e.data.scope, key=e.data.key.upper() if e.data.scope == "country" else e.data.key,
                country=(e.data.country or "").upper() or None, version=e.data.version,
                contributions_count=e.data.contributions_count, computed_at=e.data.computed_at, event_id=e.id)
            for e in events
        ])

    @runtime.consumer(ConsultationOpened, ConsultationClosed, durable="notifications-consultations", envelopes=True)
    async def notify_consultation(conn, events: list[CloudEvent[ConsultationOpened | ConsultationClosed]]) -> None:
        """A consultation opened or closed: delivered to matching subscriptions."""
        await publish_to_partners(conn, events, lambda e: [public_events.from_consultation(e, max_bytes)])
        await store.upsert_consultation_frameworks(conn, [
            (e.data.consultation, e.data.framework.id, [axis.id for axis in e.data.framework.axes])
            for e in events if isinstance(e.data, ConsultationOpened)])

    @runtime.consumer(AxesPlaced, durable="notifications-axes-placed")
    async def file_under_axes(conn, events: list[AxesPlaced]) -> None:
        """Where synthesis placed each published contribution: its feed item is filed under that framework
        and axis (`/feeds/frameworks/{framework}/axes/{axis}`)."""
        await store.place_axes(conn, [(p.contribution_id, p.framework, p.axis, p.axis_source, e.placed_at)
                                      for e in events for p in e.placements])

    @runtime.consumer(TerritoryRegistered, durable="notifications-territories")
    async def keep_territories(conn, territories: list[TerritoryRegistered]) -> None:
        """Territories, for the licence of their open data."""
        latest = {t.territory: t for t in territories}
        await store.upsert_territories(conn, [
            (t.territory, t.name, t.country.upper(), t.kind, t.licence) for t in latest.values()
        ])
