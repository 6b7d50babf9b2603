"""Nothing lost, nothing doubled, under load and faults (make test-chaos): each service killed with
`kill -9` in turn, nats-server killed and restarted, PostgreSQL stopped as in a crash and restarted; then a
three-node JetStream cluster with R3 streams losing one node under load."""

import time

import pytest

from bench.receiver import ReceiverProcess
from bench.stack import DURABILITY_PROFILES, Stack
from palabre.registry import SERVICE_NAMES
from tests.chaos.accounting import Load, account, network

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1200)]

TERRITORIES = [("chaos-nantes", "FR"), ("chaos-namur", "BE"), ("chaos-dakar", "SN"), ("chaos-quebec", "CA")]


@pytest.fixture
def chaos_stack(tmp_path):
    stack = Stack(tmp_path / "stack", batch_size=200).start_infra().start_all()
    receiver = ReceiverProcess(tmp_path / "stack" / "logs").start()
    yield stack, receiver
    receiver.stop()
    stack.stop()


async def test_every_service_killed_and_both_servers_restarted_under_load(chaos_stack):
    stack, receiver = chaos_stack
    keys = network(stack, receiver, TERRITORIES)
    load = Load(stack, keys, count=4000, per_second=100).start()
    time.sleep(3)
    for name in SERVICE_NAMES:
        stack.kill(name)
        time.sleep(1.5)
        stack.start_service(name)
        time.sleep(2)
    stack.restart_nats(kill=True)
    time.sleep(3)
    stack.restart_postgres(immediate=True)
    time.sleep(3)
    stack.kill("moderation")  # once more, while it catches up after the restarts
    stack.start_service("moderation")
    sent = load.join()
    assert len(sent) == 4000
    report = await account(stack, receiver, sent, timeout=420)
    assert sum(report.outcomes.values()) == 4000


@pytest.fixture
def cluster_stack(tmp_path):
    stack = Stack(tmp_path / "stack", batch_size=200, durability=DURABILITY_PROFILES["r3-cluster"]).start_infra()
    receiver = ReceiverProcess(tmp_path / "stack" / "logs").start()
    stack.start_all()
    yield stack, receiver
    receiver.stop()
    stack.stop()


async def test_a_three_node_cluster_loses_a_node_under_load(cluster_stack):
    stack, receiver = cluster_stack
    nc = await stack.nats_connect()
    info = await nc.jetstream().stream_info("PALABRE_EVENTS")
    await nc.close()
    assert info.config.num_replicas == 3 and len(info.cluster.replicas or []) == 2
    keys = network(stack, receiver, TERRITORIES)
    load = Load(stack, keys, count=2000, per_second=100).start()
    time.sleep(4)
    stack.nats_nodes[0].stop(kill=True)  # the node the services listed first
    time.sleep(8)
    stack.nats_nodes[0].start()
    sent = load.join()
    report = await account(stack, receiver, sent, timeout=420)
    assert sum(report.outcomes.values()) == 2000
