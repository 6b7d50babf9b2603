"""Secrets: API keys and passwords are shown once and stored only as hashes."""

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import deque
from functools import cache

# OWASP's Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1 (128 MiB per hash).
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 17, 8, 1
_LEGACY_LOG_N = 14  # hashes written as scrypt$<salt>$<digest> before the cost was stored with them


def new_api_key(prefix: str) -> str:
    """A high-entropy key such as `pk_nantes-metropole_…`; the prefix tells its holder what it is."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """SHA-256 is enough for 256-bit random keys (no dictionary to attack), and fast to look up."""
    return hashlib.sha256(key.encode()).hexdigest()


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**log_n, r=r, p=p, dklen=32,
                          maxmem=256 * r * 2**log_n)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$<log2 N>$<r>$<p>$<salt>$<digest>` (CPU- and memory-hard: call it off the event loop)."""
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_LOG_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    parts = stored.split("$")
    try:
        if len(parts) == 3 and parts[0] == "scrypt":
            log_n, r, p, salt_hex, digest_hex = _LEGACY_LOG_N, 8, 1, parts[1], parts[2]
        elif len(parts) == 6 and parts[0] == "scrypt":
            log_n, r, p, salt_hex, digest_hex = int(parts[1]), int(parts[2]), int(parts[3]), parts[4], parts[5]
        else:
            return False
        if not (10 <= log_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
            return False
        candidate = _scrypt(password, bytes.fromhex(salt_hex), log_n, r, p)
        return hmac.compare_digest(candidate, bytes.fromhex(digest_hex))
    except ValueError:
        return False


@cache
def _unknown_login_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


VERIFIED_FOR_S = 300.0
_VERIFIED_KEY = secrets.token_bytes(32)
_verified: dict[bytes, float] = {}  # HMAC of (stored hash, password) -> when it was last checked right


async def password_matches(password: str, stored: str | None) -> bool:
    """Checks `password` in a worker thread; with no `stored` hash (unknown login) it still hashes once, so
    that an unknown login takes as long as a wrong password. A password found right is remembered (as an
    HMAC with a key of this process, with the hash it matched) for `VERIFIED_FOR_S`: the API's Basic
    authentication checks it on every request, and one scrypt at this cost takes about 0.5 s of CPU. A
    changed password or hash misses the memory; a wrong password always pays the full cost."""
    if stored is None:
        await asyncio.to_thread(verify_password, password, await asyncio.to_thread(_unknown_login_hash))
        return False
    remembered = hmac.new(_VERIFIED_KEY, f"{stored}\0{password}".encode(), hashlib.sha256).digest()
    now = time.monotonic()
    if now - _verified.get(remembered, -VERIFIED_FOR_S) < VERIFIED_FOR_S:
        return True
    if not await asyncio.to_thread(verify_password, password, stored):
        return False
    if len(_verified) >= 10_000:
        _verified.clear()
    _verified[remembered] = now
    return True


async def new_password_hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


class LoginThrottle:
    """Failed sign-ins counted per login and per client address over a sliding window; above either limit,
    further attempts are refused (without checking the password) until the oldest failure leaves the window.
    Kept in the process: each replica throttles on its own."""

    def __init__(self, *, per_login: int = 5, per_address: int = 20, window_s: float = 900.0,
                 max_keys: int = 100_000) -> None:
        self.limits = {"login": per_login, "address": per_address}
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, login: str, address: str) -> float | None:
        """Seconds to wait when this login or this address is above its limit, else None."""
        now = time.monotonic()
        waits = []
        for kind, value in (("login", login.lower()), ("address", address)):
            failures = self._recent((kind, value), now)
            if failures is not None and len(failures) >= self.limits[kind]:
                waits.append(failures[0] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, login: str, address: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= self.max_keys:
            for key in [k for k, v in self._failures.items() if not v or v[-1] < now - self.window_s]:
                del self._failures[key]
            if len(self._failures) >= self.max_keys:  # a flood of distinct keys: start afresh
                self._failures.clear()
        for key in (("login", login.lower()), ("address", address)):
            self._failures.setdefault(key, deque(maxlen=100)).append(now)

    def succeeded(self, login: str) -> None:
        self._failures.pop(("login", login.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        while failures and failures[0] < now - self.window_s:
            failures.popleft()
        return failures


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
