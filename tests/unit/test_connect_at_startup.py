"""Start-up connections are tried again while the server refuses them for a moment, within a deadline."""

import nats
import pytest

from shared.bus import connect_at_startup


async def test_a_refused_connection_is_tried_again_until_it_succeeds():
    attempts = []

    async def connect():
        attempts.append(1)
        if len(attempts) < 3:
            raise nats.errors.Error("nats: 'Authorization Violation'")
        return "connection"

    assert await connect_at_startup(connect, "test", timeout_s=10) == "connection"
    assert len(attempts) == 3


async def test_a_connection_still_refused_at_the_deadline_raises_the_last_error():
    async def connect():
        raise nats.errors.NoServersError()

    with pytest.raises(nats.errors.NoServersError):
        await connect_at_startup(connect, "test", timeout_s=0.3)


async def test_other_errors_are_not_retried():
    attempts = []

    async def connect():
        attempts.append(1)
        raise ValueError("a bad setting")

    with pytest.raises(ValueError):
        await connect_at_startup(connect, "test", timeout_s=10)
    assert len(attempts) == 1
