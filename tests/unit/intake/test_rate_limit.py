"""The per-territory token bucket, on a clock the test moves by hand."""

from services.intake.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert wait == 0.5  # one token comes back every half second
    assert RateLimiter.retry_after_header(wait) == "1"
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0


def test_territories_do_not_share_a_bucket():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_an_idle_territory_refills_up_to_its_burst_only():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=10.0, burst=2, clock=clock)
    limiter.acquire("a")
    clock.now += 3600
    waits = [limiter.acquire("a") for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0
