"""A service outside demo mode refuses to start with the default secret key (it signs sessions and keys
the author references: a shared default would let anyone forge or reverse them)."""

import pytest

from palabre.embedded import ServiceProcess, free_port


@pytest.mark.parametrize("service", ["intake", "notifications"])  # the check is the shared runtime's
def test_the_default_secret_key_is_refused_outside_demo_mode(stack, service):
    env = {**stack.env(), "PALABRE_SECRET_KEY": "change-me", "PALABRE_DEMO": "false"}
    process = ServiceProcess(service, free_port(), env, stack.root / "logs" / f"{service}-default-secret.log").start()
    try:
        with pytest.raises(RuntimeError, match=r"(?s)exited.*PALABRE_SECRET_KEY is the default one"):
            process.wait_ready(timeout=120)
    finally:
        process.stop()
