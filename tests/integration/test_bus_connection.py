"""The services' NATS connections against real servers: a two-node cluster losing the node a client was
given, and a server that stops accepting the service user."""

import asyncio

import nats
import pytest

from shared.bus import ConnectionWatch, NatsAddress
from palabre.embedded import NatsServer, free_port
from services.intake.nats_auth import hash_nats_password, write_nats_auth_file
from tests.harness import async_wait_for


@pytest.fixture
def two_nodes(tmp_path):
    nodes = NatsServer.make_cluster(tmp_path, 2)
    for node in nodes:
        node.start()
    yield nodes
    for node in nodes:
        node.stop(kill=True)


async def connect(url: str, watch: ConnectionWatch) -> nats.NATS:
    nc = await nats.connect(**NatsAddress.parse(url).connect_options(), max_reconnect_attempts=-1,
                            reconnect_time_wait=0.2, **watch.callbacks())
    watch.opened()
    return nc


async def round_trip(nc: nats.NATS, subject: str) -> bytes:
    subscription = await nc.subscribe(subject)
    await nc.publish(subject, b"still here")
    message = await subscription.next_msg(timeout=5)
    await subscription.unsubscribe()
    return message.data


async def test_a_connection_moves_to_a_node_it_only_heard_of(two_nodes):
    """Given only the first node, the client learns of the second from the cluster; once the first is
    killed, it reconnects there with the service user (it used to go unauthenticated, be refused, and be
    closed for good)."""
    first, second = two_nodes
    watch = ConnectionWatch("test")
    nc = await connect(first.url, watch)
    try:
        await async_wait_for(holds(lambda: second.port in {s.port for s in nc.servers}),
                             what="the cluster announcing its second node")
        first.stop(kill=True)
        await async_wait_for(holds(lambda: nc.is_connected and nc.connected_url.port == second.port),
                             what="a reconnection to the second node")
        assert await round_trip(nc, "palabre.test.moved") == b"still here"
        assert watch.connected and not watch.closed_unexpectedly
    finally:
        await nc.close()


async def test_a_connection_the_server_refuses_is_reported(tmp_path):
    """The server stops accepting the service user's password: the watch says the connection is down (what
    `/readyz` reports) and why; when nats-py gives up on it for good, which it does on some paths of the
    same error, the watch says so too (what `/healthz` reports), instead of consumers silently idle."""
    server = NatsServer(tmp_path / "nats", port=free_port(), monitor_port=None).start()
    watch = ConnectionWatch("test")
    nc = await connect(server.url, watch)
    try:
        write_nats_auth_file(server.auth_file, [{"user": "palabre", "password": hash_nats_password("changed")}])
        server.reload()
        await async_wait_for(holds(lambda: "Reloaded" in (server.directory / "nats-server.log").read_text()),
                             what="the server reloading its users")
        await nc.force_reconnect()
        await async_wait_for(holds(lambda: not watch.connected and (watch.last_error or watch.closed_unexpectedly)),
                             what="the refusal seen")
        await asyncio.sleep(1.0)
        assert not watch.connected and watch.closed_unexpectedly == nc.is_closed
        refusal = str(nc.last_error) if nc.is_closed else watch.last_error
        assert "authorization" in refusal.lower()
    finally:
        await nc.close()
        server.stop(kill=True)

def holds(condition):
    async def probe() -> bool:
        return condition()
    return probe
