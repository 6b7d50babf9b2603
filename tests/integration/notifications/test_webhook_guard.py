"""The delivery worker itself refuses a webhook host name that resolves to a loopback address: nothing is
sent, and the delivery fails saying why. The subscription is made while private targets are allowed (as
one made before a deployment changed its settings), then notifications runs without that allowance."""

import uuid

import pytest

from tests.harness import Stack, wait_for
from tests.integration.notifications.support import (
    Receiver,
    create_partner,
    partner_get,
    publish,
    published,
    subscribe,
)


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("webhook-guard")).start_infra()
    stack.start_service("notifications")  # the test stack allows private targets
    yield stack
    stack.stop()


async def test_a_host_name_resolving_to_loopback_is_refused_by_the_delivery_worker(guarded_stack):
    place = f"t-{uuid.uuid4().hex[:10]}"
    key = create_partner(guarded_stack, f"p-{place}")
    receiver = Receiver().start()
    try:
        port = receiver.url.rsplit(":", 1)[1]
        subscribe(guarded_stack, key, f"http://localhost:{port}/hook", territories=[place])
        subscription_id = partner_get(guarded_stack, key, "/v1/subscriptions")["subscriptions"][0]["id"]

        guarded_stack.stop_service("notifications")
        guarded_stack.start_service("notifications", PALABRE_ALLOW_PRIVATE_WEBHOOKS="false")
        await publish(guarded_stack, published(place, "Un registre public des algorithmes."))

        def failed() -> list[dict]:
            log = partner_get(guarded_stack, key, f"/v1/subscriptions/{subscription_id}/deliveries")["deliveries"]
            return [d for d in log if d["status"] == "failed"]

        [delivery] = wait_for(failed, 60, what="the delivery refused by the worker")
        assert "localhost" in delivery["last_error"] and "non-public address" in delivery["last_error"]
        assert receiver.requests == []
        subscriptions = partner_get(guarded_stack, key, "/v1/subscriptions")["subscriptions"]
        assert subscriptions[0]["status"] == "disabled", subscriptions
    finally:
        receiver.stop()
