"""Notifications' bus consumers: public events become feed items and webhook deliveries."""

from typing import Any

from services.notifications import store
from shared.db import claim_new_events
from shared.events import CloudEvent, ContributionPublished


def short_type(event_type: str) -> str:
    """`palabre.contribution.published.v1` → `contribution.published` (what subscriptions filter on)."""
    parts = event_type.split(".")
    return ".".join(parts[1:-1]) if parts[0] == "palabre" and parts[-1].startswith("v") else event_type


def register(runtime) -> None:
    @runtime.consumer("palabre.contribution.published.>", "notifications-published")
    async def notify_published(events: list[CloudEvent[ContributionPublished]]) -> None:
        """Each published contribution: a feed item, and a delivery for every matching subscription."""
        async with runtime.db.acquire() as conn, conn.transaction():
            new = await claim_new_events(conn, "notifications-published", [e.id for e in events])
            fresh = [e for e in events if e.id in new]
            await store.insert_feed_items(conn, [
                (e.id, short_type(e.type), e.data.contribution_id, e.data.territory, e.data.country, e.data.axis,
                 e.data.title, e.data.text, e.model_dump(mode="json"), e.data.published_at)
                for e in fresh
            ])
            await store.fan_out(conn, [
                (e.id, short_type(e.type), e.data.territory, e.data.country, e.data.axis or "",
                 public_payload(e))
                for e in fresh
            ])


def public_payload(event: CloudEvent[Any]) -> bytes:
    """What a partner receives: the public event, never more."""
    return event.model_dump_json().encode()
