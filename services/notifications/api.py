"""Notifications' HTTP routes for partners: partners, subscriptions, secret rotation, replay, delivery logs,
digests. Each route checks who calls and hands over to a use case (`commands`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from services.notifications import commands, store
from services.notifications.domain.partners import LimitsIn, PartnerIn, ReplayIn, SubscriptionIn
from services.notifications.mailer import Mailer
from shared.auth import bearer_token, hash_api_key
from shared.http import Problem, network_admin

router = APIRouter()


def service_runtime(request: Request) -> Any:
    """The service's runtime: its database pool and settings."""
    return request.app.state.runtime


Runtime = Annotated[Any, Depends(service_runtime)]


async def partner_caller(runtime: Runtime, authorization: Annotated[str | None, Header()] = None) -> dict:
    token = bearer_token(authorization)
    partner = await store.partner_for_key(runtime.db, hash_api_key(token)) if token else None
    if partner is None:
        raise Problem(401, "Partner key required", "send 'Authorization: Bearer <partner key>'",
                      headers={"WWW-Authenticate": "Bearer"})
    return partner


Partner = Annotated[dict, Depends(partner_caller)]
Admin = Annotated[str, Depends(network_admin)]
ADMIN = [Depends(network_admin)]


@router.post("/v1/partners", status_code=201, tags=["administration"], dependencies=ADMIN,
             summary="Register a partner; its key is shown once")
async def create_partner(partner: PartnerIn, runtime: Runtime):
    return await commands.register_partner(runtime.db, partner)


@router.post("/v1/partners/{partner_id}/keys", status_code=201, tags=["administration"],
             summary="Rotate a partner's key: a new one, shown once; the old one stops working at once (audited)")
async def rotate_partner_key(partner_id: str, runtime: Runtime, admin: Admin):
    return await commands.rotate_partner_key(runtime.db, partner_id, actor=admin)


@router.delete("/v1/partners/{partner_id}/keys", tags=["administration"],
               summary="Revoke a partner's key (audited); a rotation issues a new one")
async def revoke_partner_key(partner_id: str, runtime: Runtime, admin: Admin):
    return await commands.revoke_partner_key(runtime.db, partner_id, actor=admin)


@router.get("/v1/admin/credential-events", tags=["administration"], dependencies=ADMIN,
            summary="The audit of partners' keys: rotations and revocations, newest first")
async def partner_credential_events(runtime: Runtime, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    return {"events": await store.credential_events(runtime.db, limit)}


@router.post("/v1/partners/{partner_id}/digest", tags=["administration"], dependencies=ADMIN,
             summary="Send the partner's e-mail digest now (what was published since the last one)")
async def send_digest_now(partner_id: str, runtime: Runtime):
    return await commands.send_digest_now(runtime.db, Mailer(runtime), partner_id)


@router.get("/v1/admin/deliveries", tags=["administration"], dependencies=ADMIN,
            summary="Deliveries by status, across all subscriptions (for monitoring and benchmarks)")
async def delivery_counts(runtime: Runtime):
    return {"deliveries": await store.delivery_counts(runtime.db)}


@router.post("/v1/subscriptions", status_code=201, tags=["subscriptions"],
             summary="Subscribe a webhook URL; the signing secret is shown once")
async def create_subscription(subscription: SubscriptionIn, runtime: Runtime, partner: Partner):
    return await commands.subscribe(runtime.db, runtime.settings, partner, subscription)


@router.get("/v1/subscriptions", tags=["subscriptions"])
async def list_subscriptions(runtime: Runtime, partner: Partner):
    return {"subscriptions": await commands.subscriptions(runtime.db, runtime.settings, partner)}


@router.get("/v1/subscriptions/{subscription_id}", tags=["subscriptions"])
async def get_subscription(subscription_id: str, runtime: Runtime, partner: Partner):
    return await commands.subscription(runtime.db, runtime.settings, partner, subscription_id)


@router.post("/v1/subscriptions/{subscription_id}/rotate-secret", tags=["subscriptions"],
             summary="A new signing secret, shown once; the previous one keeps signing during the overlap")
async def rotate_secret(subscription_id: str, runtime: Runtime, partner: Partner):
    return await commands.rotate_secret(runtime.db, runtime.settings, partner, subscription_id)


@router.post("/v1/subscriptions/{subscription_id}/disable", tags=["subscriptions"])
async def disable_subscription(subscription_id: str, runtime: Runtime, partner: Partner):
    return await commands.disable(runtime.db, runtime.settings, partner, subscription_id)


@router.post("/v1/subscriptions/{subscription_id}/enable", tags=["subscriptions"],
             summary="Enable a disabled subscription again (what was missed meanwhile: see replay)")
async def enable_subscription(subscription_id: str, runtime: Runtime, partner: Partner):
    return await commands.enable(runtime.db, runtime.settings, partner, subscription_id)


@router.put("/v1/subscriptions/{subscription_id}/limits", tags=["subscriptions"],
            summary="Set the request rate and requests in flight this subscription's endpoint takes "
                    "(a field left out goes back to the service's default)")
async def set_limits(subscription_id: str, limits: LimitsIn, runtime: Runtime, partner: Partner):
    return await commands.set_limits(runtime.db, runtime.settings, partner, subscription_id, limits)


@router.post("/v1/subscriptions/{subscription_id}/replay", status_code=202, tags=["subscriptions"],
             summary="Deliver again every matching event that occurred in [from, to)")
async def replay(subscription_id: str, window: ReplayIn, runtime: Runtime, partner: Partner):
    return await commands.replay(runtime.db, partner, subscription_id, window)


@router.get("/v1/subscriptions/{subscription_id}/deliveries", tags=["subscriptions"],
            summary="The delivery log: each delivery with its attempts, status codes and latencies")
async def subscription_deliveries(subscription_id: str, runtime: Runtime, partner: Partner, limit: int = 100):
    return {"deliveries": await commands.deliveries(runtime.db, partner, subscription_id, limit)}
