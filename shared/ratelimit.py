"""A token bucket: `rate` tokens a second on average, `burst` at once. Intake limits each territory's
requests with one, notifications each subscription's webhook requests."""

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self.tokens, self.updated = float(burst), clock()

    def try_take(self) -> float:
        """Take one token: 0.0 when there was one, else the seconds until there is (nothing taken)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def take(self) -> None:
        """Take one token, waiting for it if need be."""
        while wait_s := self.try_take():
            await asyncio.sleep(wait_s)
