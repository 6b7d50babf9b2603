"""A person's side of moderation on a real bus and database: held → decided by a person → appealed →
decided again by a network moderator, as intake and synthesis see it."""

import json
import secrets

import httpx

from tests.harness import MODERATOR_PASSWORD, Stack, create_moderator, wait_for


def moderator_auth(stack: Stack, login: str, territory: str | None = None) -> httpx.BasicAuth:
    return httpx.BasicAuth(create_moderator(stack, login, territory), MODERATOR_PASSWORD)


def decide(stack: Stack, auth, contribution_id: str, **decision) -> httpx.Response:
    return httpx.post(f"{stack.url('moderation')}/v1/contributions/{contribution_id}/decision", json=decision,
                      auth=auth, timeout=60)


def territory_count(stack: Stack, territory: str) -> int:
    response = httpx.get(f"{stack.url('synthesis')}/v1/syntheses/territories/{territory}", timeout=10)
    return response.json()["contributions_count"] if response.status_code == 200 else 0


def test_held_then_published_by_a_person_then_rejected_on_appeal(stack):
    suffix = secrets.token_hex(3)
    territory = f"hc-strict-{suffix}"
    key = stack.create_territory(territory, "FR", moderation_mode="strict")
    local = moderator_auth(stack, f"local-{suffix}", territory)
    network = moderator_auth(stack, f"network-{suffix}")

    body = "Ouvrir les codes sources des algorithmes qui attribuent les places en crèche."
    contribution_id = stack.submit(key, {"external_id": "h-1", "kind": "proposition", "body": body}).json()[
        "accepted"][0]["id"]
    held = stack.wait_final(key, [contribution_id])[contribution_id]
    assert held["status"] == "held" and not held.get("published_text")

    published = decide(stack, local, contribution_id, outcome="published")
    assert published.status_code == 200, published.text
    status = wait_for(lambda: (s := stack.status(key, contribution_id))["status"] == "published" and s,
                      what="intake to show the person's decision")
    assert status["published_text"] == body
    assert status["decision"]["automated_decision"] is False
    assert status["decision"]["statement"]["automated_decision"] is False
    assert status["decision"]["decided_by"] == f"local-{suffix}"
    assert "a priori" in status["decision"]["statement"]["facts_and_circumstances"]  # the territory's mode
    wait_for(lambda: territory_count(stack, territory) == 1, what="synthesis to count it")

    appeal = httpx.post(f"{stack.url('moderation')}/v1/contributions/{contribution_id}/appeal",
                        json={"reason": "Le texte vise un agent identifiable."}, auth=local, timeout=30)
    assert appeal.status_code == 201, appeal.text
    again = httpx.post(f"{stack.url('moderation')}/v1/contributions/{contribution_id}/appeal",
                       json={"reason": "bis"}, auth=local, timeout=30)
    assert again.status_code == 409

    refused = decide(stack, local, contribution_id, outcome="rejected", grounds=["defamation"])
    assert refused.status_code == 403
    rejected = decide(stack, network, contribution_id, outcome="rejected", grounds=["defamation"],
                      facts="Recours accueilli.")
    assert rejected.status_code == 200, rejected.text

    status = wait_for(lambda: (s := stack.status(key, contribution_id))["status"] == "rejected" and s,
                      what="intake to show the rejection")
    assert status["decision"]["grounds"] == ["defamation"]
    assert status["decision"]["decided_by"] == f"network-{suffix}"
    assert not status.get("published_text")
    wait_for(lambda: territory_count(stack, territory) == 0, what="synthesis to withdraw it")

    record = httpx.get(f"{stack.url('moderation')}/v1/contributions/{contribution_id}", auth=network, timeout=30)
    outcomes = [(d["outcome"], d["automated_decision"]) for d in record.json()["decisions"]]
    assert outcomes == [("held", True), ("published", False), ("rejected", False)]


async def test_an_appeal_is_an_event_on_the_bus(stack):
    suffix = secrets.token_hex(3)
    territory = f"hc-appeal-{suffix}"
    key = stack.create_territory(territory, "BE")
    local = moderator_auth(stack, f"appeal-{suffix}", territory)
    contribution_id = stack.submit(key, {"external_id": "a-1", "body": "Former les agents avant tout usage."}).json()[
        "accepted"][0]["id"]
    stack.wait_final(key, [contribution_id])
    nc = await stack.nats_connect()
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"palabre.contribution.appealed.be.{territory}", ordered_consumer=True)
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(f"{stack.url('moderation')}/v1/contributions/{contribution_id}/appeal",
                                         json={"reason": "Mon nom apparaît."}, auth=local)
        assert response.status_code == 201, response.text
        message = await sub.next_msg(timeout=30)
        event = json.loads(message.data)
        assert event["type"] == "palabre.contribution.appealed.v1"
        assert event["data"]["contribution_id"] == contribution_id
        assert event["data"]["appeal_id"] == response.json()["appeal_id"]
    finally:
        await nc.close()


def test_a_person_cannot_publish_a_text_that_still_holds_personal_data(stack):
    suffix = secrets.token_hex(3)
    territory = f"hc-pii-{suffix}"
    key = stack.create_territory(territory, "FR")
    local = moderator_auth(stack, f"pii-{suffix}", territory)
    body = "Je signale un abus de la part de l'agent Marc Lefebvre. Écrivez-moi : paul.martin@example.org"
    contribution_id = stack.submit(key, {"external_id": "p-1", "body": body}).json()["accepted"][0]["id"]
    first = stack.wait_final(key, [contribution_id])[contribution_id]
    assert first["status"] == "published-redacted"
    assert "paul.martin@example.org" not in first["published_text"]

    # a moderator "fixes" the redaction by putting the address back: refused, and nothing changes
    leaked = first["published_text"].replace("[courriel]", "paul.martin@example.org")
    response = decide(stack, local, contribution_id, outcome="published-redacted", redacted_body=leaked)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["kind"] for e in response.json()["errors"]] == ["email"]
    assert "paul.martin" not in response.text  # the problem says where, never what
    # so is publishing the author's text as it is: it becomes the redacted one
    plain = decide(stack, local, contribution_id, outcome="published")
    assert plain.status_code == 200, plain.text
    assert plain.json()["outcome"] == "published-redacted"

    edited = first["published_text"].replace("Je signale", "Je signale, pour la métropole,")
    response = decide(stack, local, contribution_id, outcome="published-redacted", redacted_body=edited)
    assert response.status_code == 200, response.text
    wait_for(lambda: stack.status(key, contribution_id)["published_text"] == edited, what="the edit published")


def test_a_person_decision_in_an_automatic_territory_does_not_claim_pre_moderation(stack):
    suffix = secrets.token_hex(3)
    territory = f"hc-auto-{suffix}"
    key = stack.create_territory(territory, "FR")
    local = moderator_auth(stack, f"auto-{suffix}", territory)
    contribution_id = stack.submit(key, {"external_id": "x-1",
                                         "body": "Les élus sont tous des connards incompétents."}).json()[
        "accepted"][0]["id"]
    assert stack.wait_final(key, [contribution_id])[contribution_id]["status"] == "held"
    response = decide(stack, local, contribution_id, outcome="rejected", grounds=["insult"])
    assert response.status_code == 200, response.text
    facts = response.json()["statement"]["facts_and_circumstances"]
    assert "a priori" not in facts


def test_a_territory_moderator_reaches_only_their_territory(stack):
    suffix = secrets.token_hex(3)
    key_a = stack.create_territory(f"hc-a-{suffix}", "FR", moderation_mode="strict")
    stack.create_territory(f"hc-b-{suffix}", "FR")
    other = moderator_auth(stack, f"b-{suffix}", f"hc-b-{suffix}")
    contribution_id = stack.submit(key_a, {"external_id": "t-1", "body": "Un texte du territoire A."}).json()[
        "accepted"][0]["id"]
    stack.wait_final(key_a, [contribution_id])
    assert decide(stack, other, contribution_id, outcome="published").status_code == 404
    record = httpx.get(f"{stack.url('moderation')}/v1/contributions/{contribution_id}", auth=other, timeout=30)
    assert record.status_code == 404
