"""Webhook delivery against a notifications process of its own (these tests kill it), on a real NATS and
PostgreSQL, with a fast retry schedule: retries, Retry-After, 410, disabling with an e-mail, an endpoint
that is down, a slow endpoint, `kill -9`, secret rotation, replay, e-mail digests."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from tests.harness import Stack, wait_for
from tests.integration.notifications.support import (
    Mailbox,
    Receiver,
    create_partner,
    notifications_env,
    partner_get,
    partner_post,
    publish,
    published,
    subscribe,
    territory,
    verify,
    webhook_ids,
)

RETRY_SCHEDULE_S = [0, 0.3, 0.6, 1, 1.5, 2, 3, 4]
CONCURRENCY = 4


def env(mailbox: Mailbox) -> dict[str, str]:
    return notifications_env(mailbox, RETRY_SCHEDULE_S, PALABRE_WEBHOOK_CONCURRENCY=str(CONCURRENCY))


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory, mailbox):
    """NATS, PostgreSQL and notifications alone: the events come straight from the bus."""
    stack = Stack(tmp_path_factory.mktemp("notifications")).start_infra()
    stack.start_service("notifications", **env(mailbox))
    yield stack
    stack.stop()


async def test_a_receiver_that_is_down_receives_everything_once_back(own_stack):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    receiver = Receiver()  # not listening yet
    secret = subscribe(own_stack, key, f"{receiver.url}/hook", territories=[place])["secret"]
    subscription_id = partner_get(own_stack, key, "/v1/subscriptions")["subscriptions"][0]["id"]
    events = [published(place, f"Contribution numéro {i} sur la transparence des algorithmes.") for i in range(12)]
    ids = await publish(own_stack, *events)

    def failed_attempts() -> int:
        log = partner_get(own_stack, key, f"/v1/subscriptions/{subscription_id}/deliveries")["deliveries"]
        return sum(1 for d in log if d["attempts"] >= 1) if len(log) == len(ids) else 0

    wait_for(lambda: failed_attempts() == len(ids), 60, what="a first failed attempt for every event")
    log = partner_get(own_stack, key, f"/v1/subscriptions/{subscription_id}/deliveries")["deliveries"]
    assert all(d["status"] == "pending" and d["last_error"] for d in log)

    down = threading.Event()
    down.set()
    receiver.respond = lambda request: (503, {}) if down.is_set() else (204, {})
    receiver.start()
    try:
        wait_for(lambda: {r["headers"]["webhook-id"] for r in list(receiver.requests)} == set(ids), 60,
                 what="a 503 answer to every event")
        down.clear()
        wait_for(lambda: len(receiver.accepted()) >= len(ids), 60, what="every event once the receiver is back")
        await asyncio.sleep(1.0)  # anything sent twice would arrive within the retry schedule's first steps
        accepted = receiver.accepted()
        assert sorted(webhook_ids(accepted)) == sorted(ids)  # each event exactly once
        for request in accepted:
            assert verify(request, secret)["id"] == request["headers"]["webhook-id"]
        log = partner_get(own_stack, key, f"/v1/subscriptions/{subscription_id}/deliveries")["deliveries"]
        assert {d["status"] for d in log} == {"delivered"}
        assert all(d["attempts"] >= 3 for d in log)  # refused, 503, then 204
        for delivery in log:
            statuses = [a["status_code"] for a in delivery["attempt_log"]]
            assert statuses[0] is None and 503 in statuses and statuses[-1] == 204
        assert all(a["latency_ms"] is not None for a in log[0]["attempt_log"])
    finally:
        receiver.stop()


async def test_kill_9_mid_way_loses_no_delivery(own_stack, mailbox):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    receiver = Receiver(lambda request: (time.sleep(0.02), (204, {}))[1]).start()
    secret = subscribe(own_stack, key, f"{receiver.url}/hook", territories=[place])["secret"]
    try:
        ids = await publish(own_stack, *[published(place, f"Avant la panne, contribution {i}.") for i in range(150)])
        wait_for(lambda: len(receiver.accepted()) >= 20, 60, what="deliveries under way")
        own_stack.stop_service("notifications", kill=True)
        assert len({r["headers"]["webhook-id"] for r in receiver.accepted()}) < len(ids), "killed too late"
        ids += await publish(own_stack, *[published(place, f"Pendant la panne, contribution {i}.") for i in range(30)])
        own_stack.start_service("notifications", **env(mailbox))
        wait_for(lambda: set(webhook_ids(receiver.accepted())) >= set(ids), 120, what="every delivery after the restart")
        bodies: dict[str, str] = {}
        for request in receiver.accepted():
            webhook_id = request["headers"]["webhook-id"]
            verify(request, secret)
            assert bodies.setdefault(webhook_id, request["body"]) == request["body"]  # a resend is the same message
        assert set(bodies) == set(ids)
    finally:
        receiver.stop()


class HeldAnswers:
    """A receiver's answer that holds each request until `release` is set, counting those held at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.now = self.max = 0

    def __call__(self, request):
        with self.lock:
            self.now += 1
            self.max = max(self.max, self.now)
        self.release.wait(timeout=30)
        with self.lock:
            self.now -= 1
        return 204, {}


async def test_a_slow_endpoint_delays_no_other(own_stack):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    stuck = HeldAnswers()
    slow, fast = Receiver(stuck).start(), Receiver().start()
    try:
        subscribe(own_stack, key, f"{slow.url}/slow", territories=[place])
        subscribe(own_stack, key, f"{fast.url}/fast", territories=[place])
        ids = await publish(own_stack, *[published(place, f"Contribution {i}.") for i in range(30)])
        wait_for(lambda: len(fast.accepted()) == len(ids), 60, what="the fast endpoint to receive everything")
        assert slow.accepted() == []  # the stuck endpoint has received nothing yet: it held no one back
        stuck.release.set()
        wait_for(lambda: set(webhook_ids(slow.accepted())) == set(ids), 120, what="the slow endpoint to catch up")
        assert stuck.max <= CONCURRENCY
    finally:
        stuck.release.set()
        slow.stop()
        fast.stop()


async def test_a_subscription_gets_the_limits_it_asks_within_the_service_maxima(own_stack):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    headers = {"Authorization": f"Bearer {key}"}
    base = own_stack.url("notifications")
    too_much = httpx.post(f"{base}/v1/subscriptions", headers=headers, timeout=30, json={
        "url": "http://127.0.0.1:9/hook", "limits": {"max_in_flight": 10_000, "max_rate_per_s": 10**9}})
    assert too_much.status_code == 422
    assert {e["pointer"] for e in too_much.json()["errors"]} == {"/limits/max_in_flight", "/limits/max_rate_per_s"}

    held = HeldAnswers()
    narrow, slow = Receiver(held).start(), Receiver().start()
    try:
        two_at_once = subscribe(own_stack, key, f"{narrow.url}/narrow", limits={"max_in_flight": 2}, territories=[place])
        assert two_at_once["limits"]["max_in_flight"] == 2 and two_at_once["limits"]["max_rate_per_s"] > 0
        five_a_second = subscribe(own_stack, key, f"{slow.url}/slow", limits={"max_rate_per_s": 5}, territories=[place])
        ids = await publish(own_stack, *[published(place, f"Contribution {i}.") for i in range(15)])
        wait_for(lambda: held.now == 2, 30, what="two requests held by the narrow endpoint")
        await asyncio.sleep(0.5)  # a third request, were it allowed, would have arrived by now
        assert held.max == 2  # not the service's default of CONCURRENCY
        held.release.set()
        wait_for(lambda: set(webhook_ids(narrow.accepted())) == set(ids), 60, what="the narrow endpoint to catch up")
        wait_for(lambda: set(webhook_ids(slow.accepted())) == set(ids), 60, what="the rate-limited endpoint")
        arrivals = sorted(r["at"] for r in slow.accepted())
        assert arrivals[-1] - arrivals[0] >= (len(ids) - 5) / 5 * 0.9  # a burst of 5, then 5 a second

        changed = httpx.put(f"{base}/v1/subscriptions/{five_a_second['id']}/limits", headers=headers, timeout=30,
                            json={"max_in_flight": 3})
        assert changed.status_code == 200, changed.text
        assert changed.json()["limits"] == {"max_in_flight": 3, "max_rate_per_s": two_at_once["limits"]["max_rate_per_s"]}
    finally:
        held.release.set()
        narrow.stop()
        slow.stop()


async def test_a_delivery_waiting_longer_than_its_lease_is_sent_once(own_stack):
    """At one request a second, the last of ten deliveries claimed together waits about nine seconds for
    its turn, longer than the five-second lease: the worker that holds it renews the lease, and no claim
    takes it a second time."""
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    receiver = Receiver().start()
    try:
        subscribe(own_stack, key, f"{receiver.url}/hook", limits={"max_in_flight": 10, "max_rate_per_s": 1},
                  territories=[place])
        ids = await publish(own_stack, *[published(place, f"Contribution {i}.") for i in range(10)])
        wait_for(lambda: set(webhook_ids(receiver.accepted())) == set(ids), 60, what="every delivery")
        await asyncio.sleep(2.0)  # a second sending would come at the same rate
        assert sorted(webhook_ids(receiver.accepted())) == sorted(ids)
    finally:
        receiver.stop()


async def test_retry_after_is_honoured_and_410_disables_with_an_email(own_stack, mailbox):
    place = territory()
    key = create_partner(own_stack, f"p-{place}", email=f"webmaster@{place}.example")
    answers = {"/limited": [(429, {"Retry-After": "2"})], "/gone": [(410, {})] * 5}

    def respond(request):
        queue = answers.get(request["path"], [])
        return queue.pop(0) if queue else (204, {})

    receiver = Receiver(respond).start()
    try:
        limited = subscribe(own_stack, key, f"{receiver.url}/limited", territories=[place])
        gone = subscribe(own_stack, key, f"{receiver.url}/gone", territories=[place])
        ids = await publish(own_stack, published(place, "Une contribution."))
        wait_for(lambda: receiver.accepted("/limited"), 60, what="the delivery after the 429")
        attempts = [r for r in receiver.requests if r["path"] == "/limited"]
        assert [r["status"] for r in attempts] == [429, 204]
        assert attempts[1]["at"] - attempts[0]["at"] >= 1.9  # Retry-After: 2, not the 0.3 s of the schedule
        assert webhook_ids(attempts) == ids * 2

        def gone_status():
            return partner_get(own_stack, key, f"/v1/subscriptions/{gone['id']}")
        status = wait_for(lambda: (s := gone_status())["status"] == "disabled" and s, 60, what="410 to disable")
        assert "410" in status["disabled_reason"]
        assert len([r for r in receiver.requests if r["path"] == "/gone"]) == 1  # no retry after a 410
        mail = wait_for(lambda: [m for m in mailbox.messages if f"webmaster@{place}.example" in m["to"]], 30,
                        what="the e-mail telling the partner")
        assert gone["id"] in mail[0]["content"] and "410" in mail[0]["content"]
        assert partner_get(own_stack, key, f"/v1/subscriptions/{limited['id']}")["status"] == "active"
    finally:
        receiver.stop()


async def test_persistent_failure_disables_the_subscription_and_tells_the_partner(own_stack, mailbox):
    place = territory()
    key = create_partner(own_stack, f"p-{place}", email=f"ops@{place}.example")
    receiver = Receiver(lambda request: (500, {})).start()
    try:
        subscription = subscribe(own_stack, key, f"{receiver.url}/broken", territories=[place])
        await publish(own_stack, published(place, "Une contribution."))
        status = wait_for(lambda: (s := partner_get(own_stack, key, f"/v1/subscriptions/{subscription['id']}"))[
            "status"] == "disabled" and s, 90, what="the subscription to be disabled")
        assert f"{len(RETRY_SCHEDULE_S)} failed attempts" in status["disabled_reason"]
        assert len(receiver.requests) == len(RETRY_SCHEDULE_S)
        wait_for(lambda: [m for m in mailbox.messages if f"ops@{place}.example" in m["to"]], 30, what="the e-mail")
        # enabled again, a replay brings what was missed
        assert partner_post(own_stack, key, f"/v1/subscriptions/{subscription['id']}/replay",
                            {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}).status_code == 409
        receiver.respond = lambda request: (204, {})
        assert partner_post(own_stack, key, f"/v1/subscriptions/{subscription['id']}/enable").status_code == 200
        replay = partner_post(own_stack, key, f"/v1/subscriptions/{subscription['id']}/replay",
                              {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
        assert replay.status_code == 202 and replay.json()["scheduled"] == 1
        wait_for(lambda: receiver.accepted(), 30, what="the replayed delivery")
    finally:
        receiver.stop()


async def test_rotated_secret_both_secrets_verify_during_the_overlap(own_stack):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    receiver = Receiver().start()
    try:
        subscription = subscribe(own_stack, key, f"{receiver.url}/hook", territories=[place])
        old_secret = subscription["secret"]
        rotated = partner_post(own_stack, key, f"/v1/subscriptions/{subscription['id']}/rotate-secret")
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        assert rotated.json()["previous_secret_valid_until"] is not None
        await publish(own_stack, published(place, "Après la rotation."))
        request = wait_for(lambda: receiver.accepted(), 60, what="the delivery")[0]
        assert verify(request, new_secret)["data"]["territory"] == place
        assert verify(request, old_secret)["data"]["territory"] == place
        with pytest.raises(WebhookVerificationError):
            verify(request, "whsec_" + "A" * 43 + "=")
        other = create_partner(own_stack, f"q-{place}")
        stolen = partner_post(own_stack, other, f"/v1/subscriptions/{subscription['id']}/rotate-secret")
        assert stolen.status_code == 404 and stolen.headers["content-type"] == "application/problem+json"
    finally:
        receiver.stop()


async def test_replay_of_a_time_range(own_stack):
    place = territory()
    key = create_partner(own_stack, f"p-{place}")
    receiver = Receiver().start()
    try:
        subscription = subscribe(own_stack, key, f"{receiver.url}/hook", territories=[place])
        ids = await publish(own_stack, *[published(place, f"Contribution {i}.") for i in range(5)])
        wait_for(lambda: len(receiver.accepted()) == 5, 60, what="the first deliveries")
        path = f"/v1/subscriptions/{subscription['id']}/replay"
        now = datetime.now(UTC)
        empty = partner_post(own_stack, key, path, {"from": (now - timedelta(days=3)).isoformat(),
                                                    "to": (now - timedelta(days=2)).isoformat()})
        assert empty.status_code == 202 and empty.json()["scheduled"] == 0
        replay = partner_post(own_stack, key, path, {"from": (now - timedelta(hours=1)).isoformat(),
                                                     "to": (now + timedelta(minutes=1)).isoformat()})
        assert replay.status_code == 202 and replay.json()["scheduled"] == 5
        wait_for(lambda: len(receiver.accepted()) == 10, 60, what="the replayed deliveries")
        assert sorted(webhook_ids(receiver.accepted())) == sorted(ids * 2)
        backwards = partner_post(own_stack, key, path, {"from": now.isoformat(), "to": now.isoformat()})
        assert backwards.status_code == 422 and backwards.headers["content-type"] == "application/problem+json"
        naive = partner_post(own_stack, key, path, {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"})
        assert naive.status_code == 422
    finally:
        receiver.stop()


async def test_digests_reach_the_smtp_server(own_stack, mailbox):
    place, elsewhere = territory(), territory()
    daily_email = f"veille@{place}.example"
    create_partner(own_stack, f"d-{place}", email=daily_email, digest="daily",
                   digest_filters={"territories": [place]})
    create_partner(own_stack, f"w-{place}", email=f"hebdo@{place}.example", digest="weekly")
    await publish(own_stack, published(place, "Former les agents avant tout déploiement.", title="Former d'abord"),
                  published(place, "Un registre public des algorithmes.", title="Registre"),
                  published(elsewhere, "Ailleurs, autre chose.", title="Hors périmètre"))

    def daily():  # the background task, with a one-second 'day' configured for this test
        return [m for m in mailbox.messages if daily_email in m["to"] and "Registre" in m["content"]]

    message = wait_for(daily, 60, what="the daily digest")[0]["content"]
    assert "Former d'abord" in message and "Hors périmètre" not in message
    weekly = [m for m in mailbox.messages if f"hebdo@{place}.example" in m["to"]]
    assert weekly == []  # not due within a week
    client = httpx.AsyncClient(base_url=own_stack.url("notifications"), headers=own_stack.admin_headers, timeout=30)
    response = await client.post(f"/v1/partners/w-{place}/digest")
    assert response.status_code == 200 and response.json()["sent"] is True
    weekly = [m for m in mailbox.messages if f"hebdo@{place}.example" in m["to"]]
    assert len(weekly) == 1 and "Hors périmètre" in weekly[0]["content"]
    again = await client.post(f"/v1/partners/w-{place}/digest")
    assert again.json() == {"items": 0, "sent": False}  # nothing new since the last digest
    unknown = await client.post("/v1/partners/nobody/digest")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    await client.aclose()
