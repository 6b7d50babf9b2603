"""Notifications' HTTP routes: partners, subscriptions, delivery logs."""

import hmac
import re
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.notifications import store
from services.notifications.domain.webhooks import UnsafeTarget, check_target
from shared.auth import bearer_token, hash_api_key, new_api_key
from shared.http import Problem

router = APIRouter()

EVENT_TYPES = {"contribution.published", "synthesis.updated", "consultation.opened", "consultation.closed"}


async def partner_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
    token = bearer_token(authorization)
    partner = await store.partner_for_key(request.app.state.runtime.db, hash_api_key(token)) if token else None
    if partner is None:
        raise Problem(401, "Partner key required", "send 'Authorization: Bearer <partner key>'",
                      headers={"WWW-Authenticate": "Bearer"})
    return partner


async def admin_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = bearer_token(authorization)
    expected = request.app.state.runtime.settings.admin_key
    if token is None or not expected or not hmac.compare_digest(hash_api_key(token), hash_api_key(expected)):
        raise Problem(401, "Network-admin key required", "this route needs the network-admin key",
                      headers={"WWW-Authenticate": "Bearer"})


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    territories: list[str] = Field(default_factory=list, max_length=500)
    countries: list[str] = Field(default_factory=list, max_length=250)
    axes: list[str] = Field(default_factory=list, max_length=100)
    event_types: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("countries")
    @classmethod
    def _countries(cls, countries: list[str]) -> list[str]:
        for country in countries:
            if not re.fullmatch(r"[A-Za-z]{2}", country):
                raise ValueError(f"{country!r} is not an ISO 3166-1 alpha-2 code")
        return [country.upper() for country in countries]

    @field_validator("event_types")
    @classmethod
    def _types(cls, event_types: list[str]) -> list[str]:
        unknown = set(event_types) - EVENT_TYPES
        if unknown:
            raise ValueError(f"unknown event types {sorted(unknown)}; known: {sorted(EVENT_TYPES)}")
        return event_types


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000)
    filters: Filters = Field(default_factory=Filters)


def subscription_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "url": row["url"], "status": row["status"],
        "disabled_reason": row["disabled_reason"], "created_at": row["created_at"].isoformat(),
        "filters": {k: list(row[k]) for k in ("territories", "countries", "axes", "event_types")},
    }


@router.post("/v1/partners", status_code=201, tags=["administration"], dependencies=[Depends(admin_caller)],
             summary="Register a partner; its key is shown once")
async def create_partner(partner: PartnerIn, request: Request):
    key = new_api_key(f"ptn_{partner.id}")
    if not await store.insert_partner(request.app.state.runtime.db, partner.id, partner.name, partner.email,
                                      hash_api_key(key)):
        raise Problem(409, "Partner exists", f"partner {partner.id!r} is already registered")
    return {**partner.model_dump(), "api_key": key}


@router.post("/v1/subscriptions", status_code=201, tags=["subscriptions"],
             summary="Subscribe a webhook URL; the signing secret is shown once")
async def create_subscription(subscription: SubscriptionIn, request: Request,
                              partner: Annotated[dict, Depends(partner_caller)]):
    settings = request.app.state.runtime.settings
    try:
        check_target(subscription.url, allow_private=settings.allow_private_webhooks or settings.demo)
    except UnsafeTarget as exc:
        raise Problem(422, "Webhook target refused", str(exc)) from exc
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = await store.insert_subscription(
        request.app.state.runtime.db, id=str(uuid.uuid4()), partner=partner["id"], url=subscription.url,
        secret=secret, **subscription.filters.model_dump(),
    )
    return {**subscription_view(row), "secret": secret}


@router.get("/v1/subscriptions", tags=["subscriptions"])
async def list_subscriptions(request: Request, partner: Annotated[dict, Depends(partner_caller)]):
    rows = await store.subscriptions_of(request.app.state.runtime.db, partner["id"])
    return {"subscriptions": [subscription_view(row) for row in rows]}


@router.get("/v1/subscriptions/{subscription_id}/deliveries", tags=["subscriptions"],
            summary="The delivery log: attempts, status, latency")
async def subscription_deliveries(subscription_id: str, request: Request,
                                  partner: Annotated[dict, Depends(partner_caller)]):
    pool = request.app.state.runtime.db
    owned = {str(row["id"]) for row in await store.subscriptions_of(pool, partner["id"])}
    if subscription_id not in owned:
        raise Problem(404, "Unknown subscription", f"no subscription {subscription_id!r} for this partner")
    rows = await store.deliveries_of(pool, subscription_id)
    return {"deliveries": [
        {**{k: v for k, v in row.items() if k not in ("created_at", "delivered_at", "id")}, "id": str(row["id"]),
         "created_at": row["created_at"].isoformat(),
         "delivered_at": row["delivered_at"].isoformat() if row["delivered_at"] else None}
        for row in rows
    ]}
