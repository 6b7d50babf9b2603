"""The one token bucket (intake's per-territory limit, notifications' per-subscription rate)."""

from shared.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == 0.5  # one token comes back every half second
    clock.now += 0.5
    assert bucket.try_take() == 0.0
    clock.now += 60
    assert [bucket.try_take() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]  # never more than the burst


def test_a_refused_take_takes_nothing():
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    assert bucket.try_take() == 0.0
    assert bucket.try_take() == 1.0
    clock.now += 0.25
    assert bucket.try_take() == 0.75
    clock.now += 0.75
    assert bucket.try_take() == 0.0


async def test_take_waits_for_the_next_token(monkeypatch):
    clock = Clock()
    bucket = TokenBucket(rate=4.0, burst=1, clock=clock)
    await bucket.take()
    slept = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("shared.ratelimit.asyncio.sleep", fake_sleep)
    await bucket.take()
    assert slept == [0.25]
