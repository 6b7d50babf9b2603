"""Webhook rules: the Standard Webhooks signature, the retry schedule, and which targets are allowed."""

import ipaddress
import random
import socket
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

# Standard Webhooks' recommended schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
RETRY_SCHEDULE_S = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S)


def signature_headers(secret: str, msg_id: str, timestamp: datetime, payload: str,
                      previous_secret: str | None = None) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp`, `webhook-signature` (both secrets sign during a rotation)."""
    signatures = [Webhook(secret).sign(msg_id, timestamp, payload)]
    if previous_secret:
        signatures.append(Webhook(previous_secret).sign(msg_id, timestamp, payload))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def next_retry_delay_s(attempts_made: int, retry_after_s: float | None = None) -> float | None:
    """Delay before the next attempt, with ±20 % jitter; None when the schedule is exhausted."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    delay = RETRY_SCHEDULE_S[attempts_made]
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay * random.uniform(0.8, 1.2)


class UnsafeTarget(ValueError):
    pass


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that resolve to private, loopback, link-local or otherwise internal addresses.

    Called when a subscription is made and again before each delivery (DNS may have changed since).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the URL must be http(s) with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not accepted")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UnsafeTarget(f"the host {parts.hostname!r} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified):
            raise UnsafeTarget(f"{parts.hostname!r} resolves to a non-public address ({address})")
