"""The short fault run of `make test`: two replicas of moderation and of synthesis share their durable
consumers; one replica of each, and notifications, die (`kill -9`) under load. Every contribution is still
decided once, announced once, counted once and delivered under one webhook-id: nothing processed twice."""

import re
import time

import httpx
import pytest

from bench.receiver import ReceiverProcess
from bench.stack import Stack
from tests.chaos.accounting import Load, account, network
from tests.harness import wait_for

pytestmark = pytest.mark.timeout(600)

REPLICAS = {"moderation": 2, "synthesis": 2}


class ReplicaStack(Stack):
    """Webhook leases of 15 s, not 60: the deliveries the killed notifications worker held come due for the
    restarted one sooner (a lease still outlasts a request's 10 s timeout, and a live worker renews it)."""

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{"PALABRE_WEBHOOK_LEASE_S": "15", **extra})


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    stack = ReplicaStack(root, batch_size=50, ack_wait_s=10).start_infra().start_all(REPLICAS)
    receiver = ReceiverProcess(root / "logs").start()
    yield stack, receiver
    receiver.stop()
    stack.stop()


async def test_two_replicas_share_the_work_and_survive_a_kill(replicated):
    stack, receiver = replicated
    keys = network(stack, receiver, [("repl-rennes", "FR"), ("repl-agadir", "MA")])
    warm_up = Load(stack, keys, count=100, per_second=50).start()
    # both replicas of each take part: the durable consumer is shared, not duplicated
    for name in REPLICAS:
        wait_for(lambda name=name: all(processed(stack, name, r) > 0 for r in (0, 1)), 120,
                 what=f"both {name} replicas processing events")
    load = Load(stack, keys, count=500, per_second=100, first=100).start()
    time.sleep(1)  # the kills fall in the middle of the load, not after it
    stack.kill("moderation", 1)
    stack.kill("synthesis", 0)
    stack.kill("notifications")
    time.sleep(1)
    stack.start_service("notifications")
    sent = {**warm_up.join(), **load.join()}
    assert len(sent) == 600
    await account(stack, receiver, sent, timeout=240)
    stack.start_service("moderation", 1)
    stack.start_service("synthesis", 0)


def processed(stack: Stack, name: str, replica: int) -> float:
    """Events this process has handled, from its Prometheus metrics."""
    text = httpx.get(f"{stack.processes[(name, replica)].base_url}/metrics", timeout=10).text
    consumer = {"moderation": "moderation-submitted", "synthesis": "synthesis-published"}[name]
    found = re.search(rf'palabre_events_processed_total{{[^}}]*"{consumer}"[^}}]*}} ([0-9.e+]+)', text)
    return float(found.group(1)) if found else 0.0
