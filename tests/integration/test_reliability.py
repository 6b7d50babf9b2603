"""JetStream discipline proven against the real broker and database: de-duplication, idempotent
consumers, dead letters, retry with delay, and nothing lost (or doubled) when a process dies between
its commit and its publish or its ack."""

import json
import uuid

import pytest

from palabre.registry import SERVICE_NAMES
from shared.bus import DEAD_LETTER_STREAM, DLQ_REASON, EVENTS_STREAM
from shared.events import ContributionSubmitted, envelope, utcnow
from tests.harness import Stack, async_wait_for, wait_for


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """A stack of its own: these tests kill and restart its processes."""
    stack = Stack(tmp_path_factory.mktemp("reliability"), ack_wait_s=10).start_infra().start_all()
    yield stack
    stack.stop()


async def subject_count(nc, subject: str) -> int:
    info = await nc.jetstream().stream_info(EVENTS_STREAM.name, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def outbox_empty(stack, schema: str) -> bool:
    return (await stack.sql(f"SELECT count(*) FROM {schema}.outbox"))[0]["count"] == 0


async def every_consumer_idle(nc) -> bool:
    for info in await nc.jetstream().consumers_info(EVENTS_STREAM.name):
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def consumers_idle(nc) -> bool:
    js = nc.jetstream()
    for name in ("moderation-submitted", "synthesis-published", "intake-published", "notifications-published"):
        info = await js.consumer_info(EVENTS_STREAM.name, name)
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def test_jetstream_deduplicates_by_message_id(own_stack):
    nc = await own_stack.nats_connect()
    js = nc.jetstream()
    first = await js.publish("palabre.dlq.dedup-probe", b"{}", headers={"Nats-Msg-Id": "probe-1"})
    second = await js.publish("palabre.dlq.dedup-probe", b"{}", headers={"Nats-Msg-Id": "probe-1"})
    assert not first.duplicate and second.duplicate and second.seq == first.seq
    await nc.close()


async def test_a_redelivered_event_changes_nothing(own_stack):
    key = own_stack.create_territory("rel-idem", "FR")
    contribution_id = own_stack.submit(key, {"external_id": "i-1", "body": "Un texte ordinaire sur l'IA."}).json()[
        "accepted"][0]["id"]
    own_stack.wait_final(key, [contribution_id])
    nc = await own_stack.nats_connect()
    js = nc.jetstream()
    original = await js.get_last_msg(EVENTS_STREAM.name, "palabre.contribution.submitted.fr.rel-idem")
    # the same event again, under another message id so that JetStream stores and delivers it
    await js.publish(original.subject, original.data, headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"})
    await async_wait_for(lambda: consumers_idle(nc), what="consumers to catch up")
    decisions = await own_stack.sql("SELECT count(*) FROM moderation.decisions WHERE contribution_id = $1",
                                    uuid.UUID(contribution_id))
    assert decisions[0]["count"] == 1
    assert await subject_count(nc, "palabre.contribution.published.fr.rel-idem") == 1
    await nc.close()


async def test_poison_events_are_dead_lettered_with_their_reason(own_stack):
    nc = await own_stack.nats_connect()
    js = nc.jetstream()
    await js.publish("palabre.contribution.submitted.fr.rel-poison", b"{not json",
                     headers={"Nats-Msg-Id": "poison-1"})
    wrong = {"specversion": "1.0", "id": "poison-2", "source": "/test", "type": "palabre.contribution.submitted.v1",
             "time": "2026-01-01T00:00:00Z", "data": {"contribution_id": "x", "territory": "rel-poison"}}
    await js.publish("palabre.contribution.submitted.fr.rel-poison", json.dumps(wrong).encode(),
                     headers={"Nats-Msg-Id": "poison-2"})

    async def dead_letters():
        info = await js.stream_info(DEAD_LETTER_STREAM.name, subjects_filter="palabre.dlq.moderation-submitted")
        return sum((info.state.subjects or {}).values()) >= 2

    await async_wait_for(dead_letters, what="two dead letters")
    reasons = []
    for seq in range(1, (await js.stream_info(DEAD_LETTER_STREAM.name)).state.last_seq + 1):
        message = await js.get_msg(DEAD_LETTER_STREAM.name, seq)
        if message.subject == "palabre.dlq.moderation-submitted":
            reasons.append(message.headers[DLQ_REASON])
    assert any("invalid event" in reason and "JSON" in reason for reason in reasons)
    assert any("body" in reason and "Field required" in reason for reason in reasons), reasons
    await nc.close()


async def test_an_event_that_arrives_too_early_is_retried_not_lost(own_stack):
    """A submission published on the bus before its territory is known is nak'ed with a delay, then
    processed once the territory's events have arrived."""
    contribution_id = str(uuid.uuid4())
    event = envelope(ContributionSubmitted(
        contribution_id=contribution_id, external_id="early-1", territory="rel-late", country="FR",
        consultation="rel-late-concertation-ia", body="Arrivée avant son territoire.", submitted_at=utcnow(),
    ), source="/test")
    nc = await own_stack.nats_connect()
    await nc.jetstream().publish(event.data.bus_subject(), event.model_dump_json().encode(),
                                 headers={"Nats-Msg-Id": event.id})
    wait_for(lambda: "will retry" in own_stack.log("moderation"), what="a nak with delay")
    own_stack.create_territory("rel-late", "FR")

    async def decided():
        rows = await own_stack.sql("SELECT outcome FROM moderation.decisions WHERE contribution_id = $1",
                                   uuid.UUID(contribution_id))
        return rows
    rows = await async_wait_for(decided, timeout=60, what="the early event to be moderated")
    assert [row["outcome"] for row in rows] == ["published"]
    await nc.close()


async def test_crash_between_commit_and_publish_loses_and_doubles_nothing(own_stack):
    key = own_stack.create_territory("rel-outbox", "FR")
    batch = {"contributions": [{"external_id": f"o-{i}", "body": f"Contribution numéro {i} sur la sobriété."}
                               for i in range(40)]}
    # the territory's own event must be relayed first: the crash is for the batch below, not for it
    await async_wait_for(lambda: outbox_empty(own_stack, "intake"), what="intake's outbox relayed")
    own_stack.stop_service("intake")
    own_stack.start_service("intake", PALABRE_CRASH_POINT="outbox.after_publish")
    try:
        own_stack.submit(key, batch)
    except Exception:  # noqa: BLE001 - the process may die before its answer; the client retries below
        pass
    process = own_stack.services["intake"].process
    wait_for(lambda: process.poll() is not None, what="intake to crash after publishing")
    assert process.returncode == 137
    own_stack.start_service("intake")
    resend = own_stack.submit(key, batch)  # what a territory system does after a failed call
    assert resend.status_code == 202
    ids = [a["id"] for a in resend.json()["accepted"]] + [d["id"] for d in resend.json()["duplicates"]]
    own_stack.wait_final(key, ids)

    nc = await own_stack.nats_connect()
    await async_wait_for(lambda: consumers_idle(nc), what="consumers to catch up")
    assert await subject_count(nc, "palabre.contribution.submitted.fr.rel-outbox") == 40
    assert await subject_count(nc, "palabre.contribution.published.fr.rel-outbox") == 40
    decisions = await own_stack.sql(
        "SELECT count(*) AS n, count(DISTINCT contribution_id) AS d FROM moderation.decisions d "
        "JOIN moderation.contributions c ON c.id = d.contribution_id WHERE c.territory = 'rel-outbox'")
    assert (decisions[0]["n"], decisions[0]["d"]) == (40, 40)
    # the rows published just before the crash are the relay's to delete, in its next round
    await async_wait_for(lambda: outbox_empty(own_stack, "intake"), what="intake's outbox emptied by the relay")
    await nc.close()


async def test_crash_between_commit_and_ack_processes_once(own_stack):
    key = own_stack.create_territory("rel-ack", "FR")
    nc = await own_stack.nats_connect()
    # every consumer caught up with the territory's events: the crash is for the batch below, not for them
    await async_wait_for(lambda: every_consumer_idle(nc), what="the territory's events consumed")
    await nc.close()
    own_stack.stop_service("moderation")
    own_stack.start_service("moderation", PALABRE_CRASH_POINT="consumer.after_commit")
    batch = {"contributions": [{"external_id": f"a-{i}", "body": f"Former les agents, proposition {i}."}
                               for i in range(30)]}
    ids = [a["id"] for a in own_stack.submit(key, batch).json()["accepted"]]
    process = own_stack.services["moderation"].process
    wait_for(lambda: process.poll() is not None, timeout=60, what="moderation to crash before its ack")
    own_stack.start_service("moderation")
    statuses = own_stack.wait_final(key, ids)
    assert {s["status"] for s in statuses.values()} == {"published"}

    nc = await own_stack.nats_connect()
    await async_wait_for(lambda: consumers_idle(nc), what="consumers to catch up")
    assert await subject_count(nc, "palabre.contribution.published.fr.rel-ack") == 30
    counted = await own_stack.sql("SELECT count(*) FROM synthesis.contributions WHERE territory = 'rel-ack'")
    assert counted[0]["count"] == 30
    decisions = await own_stack.sql(
        "SELECT count(*) FROM moderation.decisions d JOIN moderation.contributions c ON c.id = d.contribution_id "
        "WHERE c.territory = 'rel-ack'")
    assert decisions[0]["count"] == 30
    await nc.close()


async def test_a_restarted_intake_leaves_the_nats_users_alone(own_stack):
    """nats-server refuses the connections it authenticates while it reloads its users file: intake asks
    for a reload only when the users changed, not at every start (its own consumers' connection, opened
    right after, was refused now and then)."""
    nats_log = own_stack.nats.directory / "nats-server.log"

    def reloads() -> int:
        return nats_log.read_text(errors="replace").count("Reloaded")

    before = reloads()
    own_stack.stop_service("intake")
    own_stack.start_service("intake")
    assert "nats users file already current" in own_stack.log("intake")
    assert reloads() == before

    own_stack.create_territory("rel-users", "FR")  # a new territory gets a NATS user: the file changes
    wait_for(lambda: reloads() > before, what="nats-server to reload the new users")


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_stopped_service_shuts_down_by_itself(own_stack, service):
    """SIGTERM (what Kubernetes sends): consumers finish the batch in hand, connections close, the process
    exits 0 on its own, before the harness would have to kill it."""
    own_stack.stop_service(service)
    process = own_stack.services[service].process
    try:
        assert process.returncode == 0, own_stack.services[service].log_tail()
        assert "Application shutdown complete" in own_stack.log(service)
    finally:
        own_stack.start_service(service)
