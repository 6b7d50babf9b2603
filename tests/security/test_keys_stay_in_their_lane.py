"""No one where they don't belong, across services: each kind of key opens only its own doors. A
territory key does not administer nor subscribe (it issues no key and no NATS credentials, not even its
own), a partner key does not submit nor administer, and a territory reads and exports only its own
contributions."""

import csv
import io

import httpx


def test_each_key_opens_only_its_own_doors(stack):
    territory_key = stack.create_territory("lane-namur", "BE")
    other_key = stack.create_territory("lane-liege", "BE")
    partner = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers, timeout=30,
                         json={"id": "lane-chercheurs", "name": "Chercheurs"})
    assert partner.status_code == 201, partner.text
    partner_key = partner.json()["api_key"]

    def bearer(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    # a territory key is not the network-admin key, nor a partner key
    for key in (territory_key, partner_key):
        response = httpx.post(f"{stack.url('intake')}/v1/territories", headers=bearer(key), timeout=30,
                              json={"id": "lane-intrus", "name": "Intrus", "kind": "commune", "country": "FR"})
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    response = httpx.post(f"{stack.url('notifications')}/v1/subscriptions", headers=bearer(territory_key),
                          timeout=30, json={"url": "https://partenaire.example/hook"})
    assert response.status_code == 401, response.text
    # a partner key does not submit contributions
    assert stack.submit(partner_key, {"external_id": "lane-1", "body": "Un texte."}).status_code == 401

    # a territory reads its own contribution, not its neighbour's
    accepted = stack.submit(territory_key, {"external_id": "lane-2", "body": "Former les agents d'abord."})
    assert accepted.status_code == 202, accepted.text
    contribution_id = accepted.json()["accepted"][0]["id"]
    own = httpx.get(f"{stack.url('intake')}/v1/contributions/{contribution_id}", headers=bearer(territory_key),
                    timeout=30)
    assert own.status_code == 200 and own.json()["territory"] == "lane-namur"
    neighbour = httpx.get(f"{stack.url('intake')}/v1/contributions/{contribution_id}", headers=bearer(other_key),
                          timeout=30)
    assert neighbour.status_code == 404

    # a territory key issues and revokes no key nor NATS credentials, its neighbour's or its own
    for territory in ("lane-liege", "lane-namur"):
        for method in ("POST", "DELETE"):
            for door in ("keys", "nats-credentials"):
                response = httpx.request(method, f"{stack.url('intake')}/v1/territories/{territory}/{door}",
                                         headers=bearer(territory_key), timeout=30)
                assert response.status_code == 401, (method, territory, door, response.text)
    assert stack.submit(other_key, {"external_id": "lane-3", "body": "Un texte de Liège."}).status_code == 202
    assert stack.submit(territory_key, {"external_id": "lane-4", "body": "Encore Namur."}).status_code == 202
    # its export holds its own contributions only
    exported = httpx.get(f"{stack.url('intake')}/v1/exports/contributions.csv", headers=bearer(territory_key),
                         timeout=30)
    assert exported.status_code == 200, exported.text
    assert {row["external_id"] for row in csv.DictReader(io.StringIO(exported.text))} == {"lane-2", "lane-4"}
