"""The whole pipeline on a real bus and a real database: HTTP in → moderated → counted → delivered."""

import json

import httpx
from standardwebhooks.webhooks import Webhook

from palabre.registry import SERVICE_NAMES
from tests.harness import wait_for


def network_count(stack) -> int:
    return httpx.get(f"{stack.url('synthesis')}/v1/syntheses/network", timeout=10).json()["contributions_count"]


def subscribe(stack, receiver, partner_id: str, filters: dict | None = None) -> tuple[str, str]:
    response = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers,
                          json={"id": partner_id, "name": partner_id.title()}, timeout=10)
    assert response.status_code == 201, response.text
    partner_key = response.json()["api_key"]
    response = httpx.post(f"{stack.url('notifications')}/v1/subscriptions",
                          headers={"Authorization": f"Bearer {partner_key}"},
                          json={"url": f"{receiver.url}/hook", "filters": filters or {}}, timeout=10)
    assert response.status_code == 201, response.text
    subscription = response.json()
    assert subscription["secret"].startswith("whsec_")
    return partner_key, subscription["secret"]


def test_a_contribution_goes_from_intake_to_a_signed_webhook(stack, receiver):
    _, secret = subscribe(stack, receiver, "presse-locale", {"territories": ["flow-nantes"],
                                                                "event_types": ["contribution.published"]})
    key = stack.create_territory("flow-nantes", "FR")
    before = network_count(stack)

    response = stack.submit(key, {
        "external_id": "c-1", "kind": "proposition", "author_role": "usager", "channel": "en-ligne",
        "axis": "maitrise", "body": "Publier un registre des algorithmes utilisés par la métropole.",
    })
    assert response.status_code == 202, response.text
    accepted = response.json()["accepted"]
    assert [a["external_id"] for a in accepted] == ["c-1"] and response.json()["duplicates"] == []
    contribution_id = accepted[0]["id"]

    status = stack.wait_final(key, [contribution_id])[contribution_id]
    assert status["status"] == "published"
    assert status["published_text"] == "Publier un registre des algorithmes utilisés par la métropole."
    assert status["decision"]["statement"]["redress"]["endpoint"].endswith(f"{contribution_id}/appeal")

    wait_for(lambda: network_count(stack) == before + 1, what="the network synthesis to count it")
    territory = httpx.get(f"{stack.url('synthesis')}/v1/syntheses/territories/flow-nantes", timeout=10).json()
    assert {axis["id"]: axis["count"] for axis in territory["axes"]}["maitrise"] == 1

    wait_for(lambda: receiver.requests, what="the webhook delivery")
    delivery = receiver.requests[0]
    payload = Webhook(secret).verify(delivery["body"], {
        "webhook-id": delivery["headers"]["webhook-id"],
        "webhook-timestamp": delivery["headers"]["webhook-timestamp"],
        "webhook-signature": delivery["headers"]["webhook-signature"],
    })
    assert payload["type"] == "palabre.contribution.published.v1"
    assert payload["data"]["contribution_id"] == contribution_id
    assert "body" not in payload["data"] and "author_ref" not in payload["data"]


def test_personal_data_is_redacted_before_anything_is_public(stack, receiver):
    _, secret = subscribe(stack, receiver, "chercheurs", {"territories": ["flow-namur"],
                                                            "event_types": ["contribution.published"]})
    key = stack.create_territory("flow-namur", "BE", kind="ville", timezone="Europe/Brussels")
    body = ("Je propose un comité citoyen sur les algorithmes. Contact : jeanne.dupont@example.org "
            "ou au +32 470 12 34 56.")
    response = stack.submit(key, {"external_id": "pii-1", "kind": "proposition", "body": body,
                                  "author_ref": "decidim-user-42"})
    contribution_id = response.json()["accepted"][0]["id"]
    status = stack.wait_final(key, [contribution_id])[contribution_id]
    assert status["status"] == "published-redacted"
    assert "jeanne.dupont@example.org" not in status["published_text"]
    assert "470 12 34 56" not in status["published_text"]
    assert "[courriel]" in status["published_text"] and "[téléphone]" in status["published_text"]
    wait_for(lambda: receiver.requests, what="the webhook delivery")
    delivered = receiver.requests[0]["body"]
    assert "jeanne.dupont" not in delivered and "470 12 34 56" not in delivered
    assert "decidim-user-42" not in delivered


def test_a_batch_and_its_resend(stack):
    key = stack.create_territory("flow-batch", "FR")
    batch = {"contributions": [
        {"external_id": f"b-{i}", "kind": "attente", "body": f"Former les agents à l'IA, atelier numéro {i}."}
        for i in range(25)
    ]}
    first = stack.submit(key, batch)
    assert first.status_code == 202
    assert len(first.json()["accepted"]) == 25 and first.json()["duplicates"] == []
    ids = [a["id"] for a in first.json()["accepted"]]
    stack.wait_final(key, ids)
    again = stack.submit(key, batch)
    assert again.status_code == 202
    assert again.json()["accepted"] == []
    assert sorted(d["id"] for d in again.json()["duplicates"]) == sorted(ids)


def test_bad_input_gets_a_precise_problem_and_writes_nothing(stack):
    key = stack.create_territory("flow-bad", "FR")
    url = f"{stack.url('intake')}/v1/contributions"
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}

    malformed = httpx.post(url, content=b'{"external_id": "x", "body": ', headers=headers)
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    assert "line 1" in malformed.json()["detail"]

    wrong_enum = httpx.post(url, json={"external_id": "x", "body": "texte", "kind": "avis"}, headers=headers)
    assert wrong_enum.status_code == 422
    problem = wrong_enum.json()
    assert problem["status"] == 422 and any(e["pointer"] == "/kind" for e in problem["errors"])

    bad_bytes = httpx.post(url, content=b'{"external_id": "x", "body": "\xff\xfe"}', headers=headers)
    assert bad_bytes.status_code == 400 and "UTF-8" in bad_bytes.json()["detail"]

    half_bad = {"contributions": [{"external_id": "ok-1", "body": "bien"}, {"external_id": "", "body": "x"}]}
    response = httpx.post(url, json=half_bad, headers=headers)
    assert response.status_code == 422
    assert any(e["pointer"].startswith("/contributions/1/external_id") for e in response.json()["errors"])
    # nothing half-written: the valid first item was not stored either
    retry = stack.submit(key, {"external_id": "ok-1", "body": "bien"})
    assert len(retry.json()["accepted"]) == 1

    forged = httpx.post(url, json={"external_id": "x", "body": "y"}, headers={"Authorization": "Bearer pk_forged"})
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"


def test_a_key_reaches_only_its_own_territory(stack):
    key_a = stack.create_territory("flow-a", "FR")
    key_b = stack.create_territory("flow-b", "CA", timezone="America/Toronto")
    contribution_id = stack.submit(key_a, {"external_id": "mine", "body": "Texte du territoire A."}).json()[
        "accepted"][0]["id"]
    other = httpx.get(f"{stack.url('intake')}/v1/contributions/{contribution_id}",
                      headers={"Authorization": f"Bearer {key_b}"})
    assert other.status_code == 404
    own = httpx.get(f"{stack.url('intake')}/v1/contributions/{contribution_id}",
                    headers={"Authorization": f"Bearer {key_a}"})
    assert own.status_code == 200 and own.json()["territory"] == "flow-a"


def test_every_service_is_observable(stack):
    for service in SERVICE_NAMES:
        health = httpx.get(f"{stack.url(service)}/healthz")
        assert health.status_code == 200 and health.json()["checks"] == {"bus": True, "consumers": True}
        ready = httpx.get(f"{stack.url(service)}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "bus": True, "consumers": True}
        metrics = httpx.get(f"{stack.url(service)}/metrics").text
        # the readiness probe just made is counted under its route and status
        assert 'palabre_http_requests_total{method="GET",route="/readyz",status="200"}' in metrics
        document = httpx.get(f"{stack.url(service)}/docs/asyncapi").json()
        assert document["asyncapi"].startswith("3.")
        assert document["channels"], f"{service} documents no channel"
    log_lines = [json.loads(line) for line in stack.log("moderation").splitlines() if line.startswith("{")]
    assert any(line.get("service") == "moderation" for line in log_lines)
    moderation_metrics = httpx.get(f"{stack.url('moderation')}/metrics").text
    assert 'palabre_batch_seconds_count{consumer="moderation-submitted"}' in moderation_metrics
    assert 'palabre_batch_messages_count{consumer="moderation-submitted"}' in moderation_metrics
    intake_metrics = httpx.get(f"{stack.url('intake')}/metrics").text
    assert 'palabre_http_requests_total{method="POST",route="/v1/contributions",status="202"}' in intake_metrics
