"""Notifications' use cases for partners: registration, digests, subscriptions (their secrets, limits and
status), replays and delivery logs. Each takes the service's pool and settings and raises domain errors."""

import asyncio
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.notifications import store
from services.notifications.domain.partners import LimitsIn, PartnerIn, ReplayIn, SubscriptionIn
from services.notifications.domain.public_events import DECISION_TAKEN
from services.notifications.domain.webhooks import UnsafeTarget, check_target, new_webhook_secret
from services.notifications.mailer import Mailer
from services.notifications.settings import NotificationsSettings
from shared.auth import hash_api_key, new_api_key
from shared.errors import Conflict, Invalid, InvalidContent, NotAllowed, NotFound, Unavailable

Pool = asyncpg.Pool


async def register_partner(pool: Pool, partner: PartnerIn) -> dict[str, Any]:
    """A partner, with its key (shown once)."""
    key = new_api_key(f"ptn_{partner.id}")
    filters = partner.digest_filters
    created = await store.insert_partner(
        pool, id=partner.id, name=partner.name, email=partner.email, territory=partner.territory,
        key_hash=hash_api_key(key), digest=partner.digest, digest_territories=filters.territories,
        digest_countries=filters.countries, digest_axes=filters.axes)
    if not created:
        raise Conflict("Partner exists", f"partner {partner.id!r} is already registered")
    return {**partner.model_dump(), "api_key": key}


async def rotate_partner_key(pool: Pool, partner_id: str, actor: str) -> dict[str, Any]:
    """A new key for the partner (shown once); the old one stops working at once (audited)."""
    key = new_api_key(f"ptn_{partner_id}")
    if not await store.set_partner_key(pool, partner_id, hash_api_key(key), actor=actor, action="key rotated"):
        raise NotFound("Unknown partner", f"no partner {partner_id!r}")
    return {"partner": partner_id, "api_key": key}


async def revoke_partner_key(pool: Pool, partner_id: str, actor: str) -> dict[str, Any]:
    if not await store.set_partner_key(pool, partner_id, None, actor=actor, action="key revoked"):
        raise NotFound("Unknown partner", f"no partner {partner_id!r}")
    return {"partner": partner_id, "revoked": True}


async def send_digest_now(pool: Pool, mailer: Mailer, partner_id: str) -> dict[str, Any]:
    """The partner's e-mail digest, sent now (what was published since the last one)."""
    partner = await store.partner(pool, partner_id)
    if partner is None:
        raise NotFound("Unknown partner", f"no partner {partner_id!r}")
    if not partner["email"]:
        raise Conflict("No e-mail address", f"partner {partner_id!r} has no e-mail address")
    try:
        return await mailer.send_digest(partner_id)
    except OSError as exc:
        raise Unavailable("SMTP server unavailable", str(exc)) from exc


async def subscribe(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any],
                    subscription: SubscriptionIn) -> dict[str, Any]:
    """A webhook subscription, with its signing secret (shown once)."""
    await _check_target(subscription.url, settings, pointer="/url")
    filters = subscription.filters
    if DECISION_TAKEN in filters.event_types:
        own = partner["territory"]
        if own is None:
            raise NotAllowed("Decisions are for a territory's own system",
                             "`decision.taken` is open only to a partner bound to a territory, for that territory")
        if any(territory != own for territory in filters.territories):
            raise NotAllowed("Decisions are for a territory's own system",
                             f"this partner may receive the decisions of {own!r} only")
        if not filters.territories:
            filters.territories = [own]
    limits = checked_limits(subscription.limits, settings)
    secret = new_webhook_secret()
    row = await store.insert_subscription(
        pool, id=str(uuid.uuid4()), partner=partner["id"], url=subscription.url, secret=secret,
        **filters.model_dump(), **limits.model_dump(),
    )
    return {**subscription_view(row, settings), "secret": secret}


async def subscriptions(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any]) -> list[dict[str, Any]]:
    return [subscription_view(row, settings) for row in await store.subscriptions_of(pool, partner["id"])]


async def subscription(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any],
                       subscription_id: str) -> dict[str, Any]:
    return subscription_view(await owned_subscription(pool, partner, subscription_id), settings)


async def rotate_secret(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any],
                        subscription_id: str) -> dict[str, Any]:
    """A new signing secret (shown once); the previous one keeps signing during the overlap."""
    await owned_subscription(pool, partner, subscription_id)
    secret = new_webhook_secret()
    row = await store.rotate_secret(pool, subscription_id, secret, settings.webhook_secret_overlap_s)
    return {**subscription_view(row, settings), "secret": secret}


async def disable(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any],
                  subscription_id: str) -> dict[str, Any]:
    await owned_subscription(pool, partner, subscription_id)
    return subscription_view(await store.set_subscription_status(pool, subscription_id, "disabled"), settings)


async def enable(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any],
                 subscription_id: str) -> dict[str, Any]:
    """Enable a disabled subscription again, if its target is still one webhooks may reach."""
    row = await owned_subscription(pool, partner, subscription_id)
    await _check_target(row["url"], settings)
    return subscription_view(await store.set_subscription_status(pool, subscription_id, "active"), settings)


async def set_limits(pool: Pool, settings: NotificationsSettings, partner: dict[str, Any], subscription_id: str,
                     limits: LimitsIn) -> dict[str, Any]:
    await owned_subscription(pool, partner, subscription_id)
    checked_limits(limits, settings)
    return subscription_view(await store.set_limits(pool, subscription_id, **limits.model_dump()), settings)


async def replay(pool: Pool, partner: dict[str, Any], subscription_id: str, window: ReplayIn) -> dict[str, Any]:
    """Deliver again every matching event that occurred in the window."""
    row = await owned_subscription(pool, partner, subscription_id)
    if row["status"] != "active":
        raise Conflict("Subscription disabled", "enable the subscription before replaying events",
                       disabled_reason=row["disabled_reason"])
    count = await store.replay(pool, subscription_id, window.start, window.end)
    return {"subscription_id": subscription_id, "from": window.start.isoformat(), "to": window.end.isoformat(),
            "scheduled": count}


async def deliveries(pool: Pool, partner: dict[str, Any], subscription_id: str, limit: int) -> list[dict[str, Any]]:
    """The delivery log: each delivery with its attempts, status codes and latencies."""
    await owned_subscription(pool, partner, subscription_id)
    rows = await store.deliveries_of(pool, subscription_id, min(max(limit, 1), 1000))
    return [
        {"id": str(row["id"]), "event_id": row["event_id"], "event_type": row["event_type"],
         "status": row["status"], "attempts": row["attempts"], "replays": row["replays"],
         "last_status": row["last_status"], "last_error": row["last_error"],
         "last_latency_ms": row["attempt_log"][-1]["latency_ms"] if row["attempt_log"] else None,
         "created_at": row["created_at"].isoformat(), "delivered_at": _iso(row["delivered_at"]),
         "next_attempt_at": _iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
         "attempt_log": row["attempt_log"]}
        for row in rows
    ]


def subscription_view(row: dict[str, Any], settings: NotificationsSettings) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "url": row["url"], "status": row["status"],
        "disabled_reason": row["disabled_reason"], "created_at": row["created_at"].isoformat(),
        "filters": {k: list(row[k]) for k in ("territories", "countries", "axes", "event_types")},
        "limits": {  # in force: the subscription's own, or the service's defaults
            "max_in_flight": row["max_in_flight"] or settings.webhook_concurrency,
            "max_rate_per_s": row["max_rate_per_s"] or settings.webhook_rate_per_s,
        },
        "previous_secret_valid_until": _iso(row.get("previous_secret_until")),
        "paused_until": _iso(row.get("paused_until")),
    }


def checked_limits(limits: LimitsIn, settings: NotificationsSettings) -> LimitsIn:
    """The limits asked, refused (each field named) when above what the service allows."""
    errors = []
    if limits.max_in_flight is not None and limits.max_in_flight > settings.webhook_max_concurrency:
        errors.append({"pointer": "/limits/max_in_flight",
                       "detail": f"at most {settings.webhook_max_concurrency} requests in flight"})
    if limits.max_rate_per_s is not None and limits.max_rate_per_s > settings.webhook_max_rate_per_s:
        errors.append({"pointer": "/limits/max_rate_per_s",
                       "detail": f"at most {settings.webhook_max_rate_per_s:g} requests per second"})
    if errors:
        raise Invalid("Limits above what this service allows", "; ".join(e["detail"] for e in errors),
                      errors=errors)
    return limits


async def owned_subscription(pool: Pool, partner: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    row = await store.subscription_of(pool, partner["id"], subscription_id)
    if row is None:
        raise NotFound("Unknown subscription", f"no subscription {subscription_id!r} for this partner")
    return row


async def _check_target(url: str, settings: NotificationsSettings, *, pointer: str | None = None) -> None:
    try:  # resolves the host name: off the event loop
        await asyncio.to_thread(check_target, url, allow_private=settings.allow_private_webhooks or settings.demo)
    except UnsafeTarget as exc:
        if pointer is None:
            raise Invalid("Webhook target refused", str(exc)) from exc
        raise InvalidContent("Webhook target refused", str(exc), kind="webhook-target",
                             errors=[{"pointer": pointer, "detail": str(exc)}]) from exc


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
