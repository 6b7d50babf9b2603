"""With `PALABRE_ALLOW_PRIVATE_WEBHOOKS=false` (the default outside demo mode), a webhook URL on a
loopback or private address is refused with a 422 problem: a notifications process of its own."""

import httpx
import pytest

from tests.harness import Stack
from tests.integration.notifications.support import create_partner


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("strict")).start_infra()
    stack.start_service("notifications", PALABRE_ALLOW_PRIVATE_WEBHOOKS="false", PALABRE_DEMO="false")
    yield stack
    stack.stop()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.0.0.8/hook",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/hook"])
def test_a_private_webhook_target_is_refused(strict_stack, url):
    key = create_partner(strict_stack, f"p{abs(hash(url)) % 10 ** 8}")
    response = httpx.post(f"{strict_stack.url('notifications')}/v1/subscriptions", timeout=30,
                          headers={"Authorization": f"Bearer {key}"}, json={"url": url})
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["title"] == "Webhook target refused" and "non-public address" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/url"
    listed = httpx.get(f"{strict_stack.url('notifications')}/v1/subscriptions", timeout=30,
                       headers={"Authorization": f"Bearer {key}"}).json()
    assert listed["subscriptions"] == []


async def test_a_name_resolving_to_a_private_address_is_refused_at_connection_time():
    """The delivery connection checks the address it is about to use, so a name that passed the check at
    subscription time and now resolves to loopback (DNS rebinding) reaches nothing."""
    import asyncio

    import aiohttp

    from services.notifications.delivery import PublicAddressResolver
    from services.notifications.domain.webhooks import UnsafeTarget

    connections = []
    server = await asyncio.start_server(lambda reader, writer: connections.append(writer), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicAddressResolver())) as client:
            with pytest.raises(UnsafeTarget, match="non-public address"):
                await client.post(f"http://localhost:{port}/hook", data=b"{}")
    finally:
        server.close()
    assert connections == []
