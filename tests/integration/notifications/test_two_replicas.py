"""Two notifications replicas on a real NATS and PostgreSQL, with a real SMTP server (aiosmtpd): an endpoint
that answers 2xx again gets its waiting deliveries at once, in order and at its rate, while one that stays
down keeps the retry schedule; a digest skips no feed item a slower replica commits late, and sends none
twice; a notice is not sent twice after a crash."""

import time
import uuid

import asyncpg
import pytest

from tests.harness import Stack, wait_for
from tests.integration.notifications.support import (
    Receiver,
    create_partner,
    notifications_env,
    publish,
    published,
    subscribe,
    territory,
    webhook_ids,
)

RETRY_SCHEDULE_S = [0, 1, 3600, 3600]  # after two failures, a delivery would wait an hour
REPLICAS = (0, 1)


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory, mailbox):
    stack = Stack(tmp_path_factory.mktemp("notifications-replicas")).start_infra()
    for replica in REPLICAS:
        stack.start_service("notifications", replica, **notifications_env(mailbox, RETRY_SCHEDULE_S))
    yield stack
    stack.stop()


async def test_an_endpoint_that_answers_again_gets_its_waiting_deliveries_at_once_in_order(two_replicas):
    stack, place = two_replicas, territory("r")
    state = {"up": False}
    recovering = Receiver(lambda request: (204, {}) if state["up"] else (503, {})).start()
    down = Receiver(lambda request: (503, {})).start()
    try:
        rate = 2.0  # per replica, as each replica applies a subscription's limits to what it sends
        key = create_partner(stack, f"rec-{place}")
        subscribe(stack, key, f"{recovering.url}/hook", limits={"max_in_flight": 1, "max_rate_per_s": rate},
                  territories=[place])
        other = create_partner(stack, f"down-{place}")
        subscribe(stack, other, f"{down.url}/hook", territories=[place])
        waiting = []
        for n in range(16):  # one at a time, so each is its own fan-out: their order is the publication order
            [event_id] = await publish(stack, published(place, f"Contribution en attente {n}."))
            waiting.append(event_id)
            wait_for(lambda: event_id in webhook_ids(recovering.requests), 30, what=f"the first attempt of {n}")
        # each has failed twice (at once, then a second later): the schedule's next step is an hour away
        wait_for(lambda: all(webhook_ids(recovering.requests).count(e) >= 2 for e in waiting), 60,
                 what="the second failed attempts")
        wait_for(lambda: all(webhook_ids(down.requests).count(e) >= 2 for e in waiting), 60,
                 what="the second failed attempts of the endpoint that stays down")
        state["up"] = True
        [trigger] = await publish(stack, published(place, "La contribution qui trouve le point d'accès revenu."))
        wait_for(lambda: set(waiting) <= {r["headers"]["webhook-id"] for r in recovering.accepted()}, 120,
                 what="the waiting deliveries after the endpoint answered 2xx")
        accepted = recovering.accepted()
        first_2xx = {}
        for request in accepted:
            first_2xx.setdefault(request["headers"]["webhook-id"], request["at"])
        assert webhook_ids(accepted)[0] == trigger  # the 2xx that told the endpoint was back
        released = sorted(waiting, key=first_2xx.get)
        # in the order they were published, but for the request each replica may have in flight at once
        assert all(abs(released.index(e) - waiting.index(e)) <= len(REPLICAS) for e in waiting), released
        assert released[0] in waiting[:len(REPLICAS)] and released[-1] in waiting[-len(REPLICAS):]
        spread = first_2xx[released[-1]] - first_2xx[released[0]]
        together = rate * len(REPLICAS)
        assert spread >= (len(waiting) - together) / together  # no faster than the subscription's rate
        print(f"partner recovery: {len(waiting)} waiting deliveries delivered "
              f"{first_2xx[released[-1]] - first_2xx[trigger]:.1f} s after the endpoint's first 2xx")
        # the endpoint that stays down keeps the schedule: nothing more than its two attempts each
        assert all(webhook_ids(down.requests).count(e) == 2 for e in waiting)
    finally:
        recovering.stop()
        down.stop()


async def test_a_digest_skips_no_item_a_replica_commits_late_and_sends_none_twice(two_replicas, mailbox):
    stack, place = two_replicas, territory("r")
    email = f"veille@{place}.example"
    create_partner(stack, f"dig-{place}", email=email, digest="daily", digest_filters={"territories": [place]})
    late = await asyncpg.connect(stack.database_url)
    try:
        # a replica's transaction that took its feed item's seq first but commits last
        held = late.transaction()
        await held.start()
        await late.execute(
            "INSERT INTO notifications.feed_items (event_id, event_type, contribution_id, territory, country, title, "
            "text, payload, occurred_at) VALUES ($1, 'contribution.published', $2, $3, 'FR', 'Tardive', "
            "'Publiée par une transaction lente.', '{\"data\": {\"kind\": \"proposition\"}}', now())",
            f"late-{place}", uuid.uuid4(), place)
        titles = [f"Suivante {n}" for n in range(6)]
        await publish(stack, *(published(place, f"Texte {t}.", title=t) for t in titles))

        def digests():
            return [m["content"] for m in mailbox.messages if email in m["to"]]

        wait_for(lambda: all(any(t in d for d in digests()) for t in titles), 60,
                 what="a digest of the items committed first")
        await held.commit()
        wait_for(lambda: any("Tardive" in d for d in digests()), 60, what="the item committed late in a digest")
    finally:
        await late.close()
    time.sleep(2)  # two more 'days' of both replicas' mailers: nothing may come twice
    for title in [*titles, "Tardive"]:
        assert sum(d.count(f"— {title} ·") for d in digests()) == 1, title


async def test_a_notice_is_not_sent_again_after_a_crash_once_sent(two_replicas, mailbox):
    stack = two_replicas
    for replica in REPLICAS:  # whichever replica sends the notice dies right after the SMTP server took it
        stack.processes[("notifications", replica)].stop()
        stack.start_service("notifications", replica,
                            **notifications_env(mailbox, RETRY_SCHEDULE_S,
                                              PALABRE_CRASH_POINT="mailer.after_notice_sent"))
    gone = Receiver(lambda request: (410, {})).start()
    try:
        first, sentinel = territory("r"), territory("r")
        key = create_partner(stack, f"n-{first}", email=f"ops@{first}.example")
        subscribe(stack, key, f"{gone.url}/gone", territories=[first])
        await publish(stack, published(first, "Une contribution pour un point d'accès disparu."))
        wait_for(lambda: any(f"ops@{first}.example" in m["to"] for m in mailbox.messages), 60, what="the notice")
        wait_for(lambda: any(stack.processes[("notifications", r)].process.poll() == 137 for r in REPLICAS), 30,
                 what="the replica that sent it to crash")
        for replica in REPLICAS:
            stack.processes[("notifications", replica)].stop()
            stack.start_service("notifications", replica, **notifications_env(mailbox, RETRY_SCHEDULE_S))
        key = create_partner(stack, f"n-{sentinel}", email=f"ops@{sentinel}.example")
        subscribe(stack, key, f"{gone.url}/gone", territories=[sentinel])
        await publish(stack, published(sentinel, "Une autre, après le redémarrage."))
        # notices go out oldest first: once the later one is sent, the first would have been sent again
        wait_for(lambda: any(f"ops@{sentinel}.example" in m["to"] for m in mailbox.messages), 60,
                 what="the later notice")
        assert len([m for m in mailbox.messages if f"ops@{first}.example" in m["to"]]) == 1
    finally:
        gone.stop()
