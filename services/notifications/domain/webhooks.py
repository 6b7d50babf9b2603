"""Webhook rules: the Standard Webhooks signature, the retry schedule, and which targets are allowed."""

import base64
import ipaddress
import random
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum
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


def next_retry_delay_s(attempts_made: int, retry_after_s: float | None = None, *,
                       schedule: Sequence[float] = RETRY_SCHEDULE_S,
                       max_retry_after_s: float = RETRY_SCHEDULE_S[-1]) -> float | None:
    """Delay before the next attempt, with ±20 % jitter; None when the schedule is exhausted.

    `schedule[n]` is the delay before attempt n+1 (the first, `schedule[0]`, is normally 0). A
    `Retry-After` from the endpoint lengthens the delay (capped at `max_retry_after_s`), never shortens it.
    """
    if attempts_made >= len(schedule):
        return None
    delay = schedule[attempts_made] * random.uniform(0.8, 1.2)  # nosec B311 # retry jitter, not a secret
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, max_retry_after_s))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a `Retry-After` header (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


class Outcome(str, Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DISABLE = "disable"


def classify_response(status_code: int | None) -> Outcome:
    """What a response means for the subscription: 2xx delivered, 410 Gone disables it, the rest retries."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 410:
        return Outcome.DISABLE
    return Outcome.RETRY


class UnsafeTarget(ValueError):
    pass


_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to reach: IPv4-mapped, NAT64, 6to4, IPv4-compatible."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if any(address in network for network in _NAT64) or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(text: str) -> bool:
    """Whether an IP address may receive webhooks: global unicast, not loopback, private or link-local,
    nor an IPv6 form (NAT64, 6to4, IPv4-compatible or -mapped) of such an IPv4 address."""
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_loopback or address.is_unspecified:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            address = inner
    return address.is_global and not address.is_multicast


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def check_target(url: str, *, allow_private: bool, resolve: bool = True) -> None:
    """Refuse URLs that resolve to private, loopback, link-local or otherwise internal addresses.

    Called when a subscription is made (it may resolve a name: call it off the event loop). At delivery time it runs with `resolve=False` (shape and literal
    addresses only): the names are checked by the connection's own resolver, which pins the checked
    address, so a name that re-resolves elsewhere between check and connect cannot slip through.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("the URL must be http(s) with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not accepted")
    if allow_private:
        return
    literal = _ip_literal(parts.hostname)
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return
    else:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except socket.gaierror as exc:
            raise UnsafeTarget(f"the host {parts.hostname!r} does not resolve") from exc
        addresses = [info[4][0] for info in infos]
    refuse_private_addresses(parts.hostname, addresses)


def refuse_private_addresses(host: str, addresses: Sequence[str]) -> None:
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeTarget(f"{host!r} resolves to a non-public address ({address.split('%')[0]})")


def new_webhook_secret() -> str:
    """`whsec_` and 32 random bytes in standard base64, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
