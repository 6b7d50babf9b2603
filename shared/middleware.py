"""FastStream middleware binding the event ids, contribution ids and service into every log line."""

from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.nats import NatsBroker

from shared.bus import CONTRIBUTION_HEADER, MSG_ID_HEADER, nats_servers
from shared.settings import Settings


def _header_values(raw: Any, name: str) -> list[str]:
    messages = raw if isinstance(raw, list) else [raw]
    values = []
    for message in messages:
        headers = getattr(message, "headers", None) or {}
        if name in headers:
            values.append(headers[name])
    return values


class LogContextMiddleware(BaseMiddleware):
    async def consume_scope(self, call_next, msg):
        event_ids = _header_values(msg.raw_message, MSG_ID_HEADER)
        contribution_ids = _header_values(msg.raw_message, CONTRIBUTION_HEADER)
        context: dict[str, Any] = {"subject": getattr(msg, "subject", None)}
        if len(event_ids) == 1:
            context["event_id"] = event_ids[0]
        elif event_ids:
            context["event_ids"] = event_ids[:20]
            context["batch_size"] = len(event_ids)
        if len(contribution_ids) == 1:
            context["contribution_id"] = contribution_ids[0]
        elif contribution_ids:
            context["contribution_ids"] = contribution_ids[:20]
        with structlog.contextvars.bound_contextvars(**context):
            return await call_next(msg)


def make_broker(settings: Settings, service: str) -> NatsBroker:
    return NatsBroker(
        nats_servers(settings),
        name=f"palabre-{service}-consumers",
        middlewares=[LogContextMiddleware],
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        logger=None,
        # Handlers take the NATS message as their one plain argument: no dependency injection to resolve
        # per message (fast_depends cost about a tenth of a consumer's CPU under load).
        apply_types=False,
    )
