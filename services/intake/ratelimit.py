"""Per-territory rate limit: a token bucket per territory, in this process's memory.

Each replica limits on its own (N replicas allow N times the rate): simple, and enough to stop one
territory's runaway system from starving the others on the same replica.
"""

import math
import time
from collections.abc import Callable

from shared.ratelimit import TokenBucket


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def acquire(self, key: str) -> float:
        """Take one token for `key`: 0.0 when allowed, else the seconds to wait before retrying."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.try_take()

    @staticmethod
    def retry_after_header(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
