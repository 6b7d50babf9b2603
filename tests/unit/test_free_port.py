import socket

from palabre.embedded import _ephemeral_port_range, free_port


def test_free_ports_are_distinct_bindable_and_outside_the_ephemeral_range():
    """A port in the ephemeral range may become the local end of an outgoing connection before the
    server it was picked for binds it; such a collision made a whole test stack fail to start."""
    low, high = _ephemeral_port_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert not any(low <= port <= high for port in ports)
    for port in ports[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
