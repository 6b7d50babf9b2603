"""Notifications' HTTP routes for partners: partners, subscriptions, secret rotation, replay, delivery logs,
digests."""

import asyncio
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from services.notifications import store
from services.notifications.domain.public_events import (
    DECISION_TAKEN,
    PARTNER_EVENT_TYPES,
)
from services.notifications.domain.webhooks import (
    UnsafeTarget,
    check_target,
    new_webhook_secret,
)
from services.notifications.mailer import Mailer
from shared.auth import bearer_token, hash_api_key, new_api_key
from shared.http import Problem, network_admin

router = APIRouter()

EVENT_TYPES = PARTNER_EVENT_TYPES
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


async def partner_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
    token = bearer_token(authorization)
    partner = await store.partner_for_key(request.app.state.runtime.db, hash_api_key(token)) if token else None
    if partner is None:
        raise Problem(401, "Partner key required", "send 'Authorization: Bearer <partner key>'",
                      headers={"WWW-Authenticate": "Bearer"})
    return partner


def iso_countries(countries: list[str]) -> list[str]:
    for country in countries:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 code")
    return [country.upper() for country in countries]


class DigestFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    territories: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list, max_length=500)
    countries: list[str] = Field(default_factory=list, max_length=250)
    axes: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)

    @field_validator("countries")
    @classmethod
    def _countries(cls, countries: list[str]) -> list[str]:
        return iso_countries(countries)


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    territory: str | None = Field(default=None, pattern=SLUG,
                                  description="The territory whose own system this partner is: it may then "
                                              "subscribe to `decision.taken` for that territory")
    digest: Literal["none", "daily", "weekly"] = "none"
    digest_filters: DigestFilters = Field(default_factory=DigestFilters)

    @model_validator(mode="after")
    def _digest_needs_email(self) -> "PartnerIn":
        if self.digest != "none" and not self.email:
            raise ValueError("an e-mail digest needs an `email`")
        return self


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    territories: list[Annotated[str, Field(pattern=SLUG)]] = Field(default_factory=list, max_length=500)
    countries: list[str] = Field(default_factory=list, max_length=250)
    axes: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    event_types: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("countries")
    @classmethod
    def _countries(cls, countries: list[str]) -> list[str]:
        return iso_countries(countries)

    @field_validator("event_types")
    @classmethod
    def _types(cls, event_types: list[str]) -> list[str]:
        unknown = set(event_types) - EVENT_TYPES
        if unknown:
            raise ValueError(f"unknown event types {sorted(unknown)}; known: {sorted(EVENT_TYPES)}")
        return list(dict.fromkeys(event_types))


class LimitsIn(BaseModel):
    """What a subscription asks of Palabre's sender; unset, the service's defaults apply. The service's
    maxima (`PALABRE_WEBHOOK_MAX_CONCURRENCY`, `PALABRE_WEBHOOK_MAX_RATE_PER_S`) bound what may be asked."""

    model_config = ConfigDict(extra="forbid")
    max_in_flight: int | None = Field(default=None, ge=1, description="Requests in flight at once")
    max_rate_per_s: float | None = Field(default=None, gt=0, description="Requests per second")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000)
    filters: Filters = Field(default_factory=Filters)
    limits: LimitsIn = Field(default_factory=LimitsIn)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "ReplayIn":
        if self.end <= self.start:
            raise ValueError("`to` must come after `from`")
        return self


def subscription_view(row: dict[str, Any], settings) -> dict[str, Any]:
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


def checked_limits(limits: LimitsIn, settings) -> LimitsIn:
    """The limits asked, refused (422, each field named) when above what the service allows."""
    errors = []
    if limits.max_in_flight is not None and limits.max_in_flight > settings.webhook_max_concurrency:
        errors.append({"pointer": "/limits/max_in_flight",
                       "detail": f"at most {settings.webhook_max_concurrency} requests in flight"})
    if limits.max_rate_per_s is not None and limits.max_rate_per_s > settings.webhook_max_rate_per_s:
        errors.append({"pointer": "/limits/max_rate_per_s",
                       "detail": f"at most {settings.webhook_max_rate_per_s:g} requests per second"})
    if errors:
        raise Problem(422, "Limits above what this service allows", "; ".join(e["detail"] for e in errors),
                      errors=errors)
    return limits


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def allow_private(settings) -> bool:
    return settings.allow_private_webhooks or settings.demo


async def owned_subscription(request: Request, partner: dict, subscription_id: str) -> dict[str, Any]:
    row = await store.subscription_of(request.app.state.runtime.db, partner["id"], subscription_id)
    if row is None:
        raise Problem(404, "Unknown subscription", f"no subscription {subscription_id!r} for this partner")
    return row


@router.post("/v1/partners", status_code=201, tags=["administration"], dependencies=[Depends(network_admin)],
             summary="Register a partner; its key is shown once")
async def create_partner(partner: PartnerIn, request: Request):
    key = new_api_key(f"ptn_{partner.id}")
    filters = partner.digest_filters
    created = await store.insert_partner(
        request.app.state.runtime.db, id=partner.id, name=partner.name, email=partner.email,
        territory=partner.territory, key_hash=hash_api_key(key), digest=partner.digest,
        digest_territories=filters.territories, digest_countries=filters.countries, digest_axes=filters.axes)
    if not created:
        raise Problem(409, "Partner exists", f"partner {partner.id!r} is already registered")
    return {**partner.model_dump(), "api_key": key}


@router.post("/v1/partners/{partner_id}/keys", status_code=201, tags=["administration"],
             dependencies=[Depends(network_admin)],
             summary="Rotate a partner's key: a new one, shown once; the old one stops working at once (audited)")
async def rotate_partner_key(partner_id: str, request: Request):
    key = new_api_key(f"ptn_{partner_id}")
    if not await store.set_partner_key(request.app.state.runtime.db, partner_id, hash_api_key(key),
                                       actor="network-admin", action="key rotated"):
        raise Problem(404, "Unknown partner", f"no partner {partner_id!r}")
    return {"partner": partner_id, "api_key": key}


@router.delete("/v1/partners/{partner_id}/keys", tags=["administration"], dependencies=[Depends(network_admin)],
               summary="Revoke a partner's key (audited); a rotation issues a new one")
async def revoke_partner_key(partner_id: str, request: Request):
    if not await store.set_partner_key(request.app.state.runtime.db, partner_id, None, actor="network-admin",
                                       action="key revoked"):
        raise Problem(404, "Unknown partner", f"no partner {partner_id!r}")
    return {"partner": partner_id, "revoked": True}


@router.get("/v1/admin/credential-events", tags=["administration"], dependencies=[Depends(network_admin)],
            summary="The audit of partners' keys: rotations and revocations, newest first")
async def partner_credential_events(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    return {"events": await store.credential_events(request.app.state.runtime.db, limit)}


@router.post("/v1/partners/{partner_id}/digest", tags=["administration"], dependencies=[Depends(network_admin)],
             summary="Send the partner's e-mail digest now (what was published since the last one)")
async def send_digest_now(partner_id: str, request: Request):
    runtime = request.app.state.runtime
    partner = await store.partner(runtime.db, partner_id)
    if partner is None:
        raise Problem(404, "Unknown partner", f"no partner {partner_id!r}")
    if not partner["email"]:
        raise Problem(409, "No e-mail address", f"partner {partner_id!r} has no e-mail address")
    try:
        return await Mailer(runtime).send_digest(partner_id)
    except OSError as exc:
        raise Problem(503, "SMTP server unavailable", str(exc)) from exc


@router.get("/v1/admin/deliveries", tags=["administration"], dependencies=[Depends(network_admin)],
            summary="Deliveries by status, across all subscriptions (for monitoring and benchmarks)")
async def delivery_counts(request: Request):
    return {"deliveries": await store.delivery_counts(request.app.state.runtime.db)}


@router.post("/v1/subscriptions", status_code=201, tags=["subscriptions"],
             summary="Subscribe a webhook URL; the signing secret is shown once")
async def create_subscription(subscription: SubscriptionIn, request: Request,
                              partner: Annotated[dict, Depends(partner_caller)]):
    settings = request.app.state.runtime.settings
    try:
        await asyncio.to_thread(check_target, subscription.url, allow_private=allow_private(settings))
    except UnsafeTarget as exc:
        raise Problem(422, "Webhook target refused", str(exc), type_="https://palabre.org/problems/webhook-target",
                      errors=[{"pointer": "/url", "detail": str(exc)}]) from exc
    filters = subscription.filters
    if DECISION_TAKEN in filters.event_types:
        own = partner["territory"]
        if own is None:
            raise Problem(403, "Decisions are for a territory's own system",
                          "`decision.taken` is open only to a partner bound to a territory, for that territory")
        if any(territory != own for territory in filters.territories):
            raise Problem(403, "Decisions are for a territory's own system",
                          f"this partner may receive the decisions of {own!r} only")
        if not filters.territories:
            filters.territories = [own]
    limits = checked_limits(subscription.limits, settings)
    secret = new_webhook_secret()
    row = await store.insert_subscription(
        request.app.state.runtime.db, id=str(uuid.uuid4()), partner=partner["id"], url=subscription.url,
        secret=secret, **filters.model_dump(), **limits.model_dump(),
    )
    return {**subscription_view(row, settings), "secret": secret}


@router.get("/v1/subscriptions", tags=["subscriptions"])
async def list_subscriptions(request: Request, partner: Annotated[dict, Depends(partner_caller)]):
    rows = await store.subscriptions_of(request.app.state.runtime.db, partner["id"])
    return {"subscriptions": [subscription_view(row, request.app.state.runtime.settings) for row in rows]}


@router.get("/v1/subscriptions/{subscription_id}", tags=["subscriptions"])
async def get_subscription(subscription_id: str, request: Request,
                           partner: Annotated[dict, Depends(partner_caller)]):
    return subscription_view(await owned_subscription(request, partner, subscription_id),
                             request.app.state.runtime.settings)


@router.post("/v1/subscriptions/{subscription_id}/rotate-secret", tags=["subscriptions"],
             summary="A new signing secret, shown once; the previous one keeps signing during the overlap")
async def rotate_secret(subscription_id: str, request: Request, partner: Annotated[dict, Depends(partner_caller)]):
    await owned_subscription(request, partner, subscription_id)
    runtime = request.app.state.runtime
    secret = new_webhook_secret()
    row = await store.rotate_secret(runtime.db, subscription_id, secret, runtime.settings.webhook_secret_overlap_s)
    return {**subscription_view(row, runtime.settings), "secret": secret}


@router.post("/v1/subscriptions/{subscription_id}/disable", tags=["subscriptions"])
async def disable_subscription(subscription_id: str, request: Request,
                               partner: Annotated[dict, Depends(partner_caller)]):
    await owned_subscription(request, partner, subscription_id)
    runtime = request.app.state.runtime
    return subscription_view(await store.set_subscription_status(runtime.db, subscription_id, "disabled"),
                             runtime.settings)


@router.post("/v1/subscriptions/{subscription_id}/enable", tags=["subscriptions"],
             summary="Enable a disabled subscription again (what was missed meanwhile: see replay)")
async def enable_subscription(subscription_id: str, request: Request,
                              partner: Annotated[dict, Depends(partner_caller)]):
    row = await owned_subscription(request, partner, subscription_id)
    settings = request.app.state.runtime.settings
    try:
        await asyncio.to_thread(check_target, row["url"], allow_private=allow_private(settings))
    except UnsafeTarget as exc:
        raise Problem(422, "Webhook target refused", str(exc)) from exc
    return subscription_view(await store.set_subscription_status(request.app.state.runtime.db, subscription_id,
                                                                 "active"), settings)


@router.put("/v1/subscriptions/{subscription_id}/limits", tags=["subscriptions"],
            summary="Set the request rate and requests in flight this subscription's endpoint takes "
                    "(a field left out goes back to the service's default)")
async def set_limits(subscription_id: str, limits: LimitsIn, request: Request,
                     partner: Annotated[dict, Depends(partner_caller)]):
    await owned_subscription(request, partner, subscription_id)
    runtime = request.app.state.runtime
    checked_limits(limits, runtime.settings)
    return subscription_view(await store.set_limits(runtime.db, subscription_id, **limits.model_dump()),
                             runtime.settings)


@router.post("/v1/subscriptions/{subscription_id}/replay", status_code=202, tags=["subscriptions"],
             summary="Deliver again every matching event that occurred in [from, to)")
async def replay(subscription_id: str, window: ReplayIn, request: Request,
                 partner: Annotated[dict, Depends(partner_caller)]):
    row = await owned_subscription(request, partner, subscription_id)
    if row["status"] != "active":
        raise Problem(409, "Subscription disabled", "enable the subscription before replaying events",
                      disabled_reason=row["disabled_reason"])
    count = await store.replay(request.app.state.runtime.db, subscription_id, window.start, window.end)
    return {"subscription_id": subscription_id, "from": window.start.isoformat(), "to": window.end.isoformat(),
            "scheduled": count}


@router.get("/v1/subscriptions/{subscription_id}/deliveries", tags=["subscriptions"],
            summary="The delivery log: each delivery with its attempts, status codes and latencies")
async def subscription_deliveries(subscription_id: str, request: Request,
                                  partner: Annotated[dict, Depends(partner_caller)], limit: int = 100):
    await owned_subscription(request, partner, subscription_id)
    rows = await store.deliveries_of(request.app.state.runtime.db, subscription_id, min(max(limit, 1), 1000))
    return {"deliveries": [
        {"id": str(row["id"]), "event_id": row["event_id"], "event_type": row["event_type"],
         "status": row["status"], "attempts": row["attempts"], "replays": row["replays"],
         "last_status": row["last_status"], "last_error": row["last_error"],
         "last_latency_ms": row["attempt_log"][-1]["latency_ms"] if row["attempt_log"] else None,
         "created_at": row["created_at"].isoformat(), "delivered_at": _iso(row["delivered_at"]),
         "next_attempt_at": _iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
         "attempt_log": row["attempt_log"]}
        for row in rows
    ]}
