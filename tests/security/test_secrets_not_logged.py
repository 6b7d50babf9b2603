"""Secrets never reach a log: after the operations that handle every kind of secret (admin key, territory
keys old and new, partner keys, webhook signing secrets, the NATS service password, the secret key), none of
them appears in any service's log nor in nats-server's."""

import httpx

from tests.harness import wait_for


def test_no_secret_appears_in_any_log(stack, receiver):
    territory_key = stack.create_territory("secrets-rouen", "FR")
    rotated = httpx.post(f"{stack.url('intake')}/v1/territories/secrets-rouen/keys", headers=stack.admin_headers,
                         timeout=30)
    assert rotated.status_code == 201, rotated.text
    new_key = rotated.json()["api_key"]
    partner = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers, timeout=30,
                         json={"id": "secrets-presse", "name": "Presse"})
    assert partner.status_code == 201, partner.text
    partner_key = partner.json()["api_key"]
    subscription = httpx.post(f"{stack.url('notifications')}/v1/subscriptions", timeout=30,
                              headers={"Authorization": f"Bearer {partner_key}"},
                              json={"url": receiver.url, "filters": {"territories": ["secrets-rouen"]}})
    assert subscription.status_code == 201, subscription.text
    webhook_secret = subscription.json()["secret"]

    # a wrong key next to a right one: the refusal must not echo what was sent
    wrong = territory_key[:-4] + "XXXX"
    assert stack.submit(wrong, {"external_id": "s-0", "body": "Texte."}).status_code == 401
    accepted = stack.submit(new_key, {"external_id": "s-1", "body": "Publier les algorithmes utilisés."})
    assert accepted.status_code == 202, accepted.text
    wait_for(lambda: receiver.events(), 60, what="the webhook delivery (signed with the secret)")

    secrets = {
        "admin key": stack.admin_key,
        "territory key": territory_key,
        "rotated territory key": new_key,
        "refused key": wrong,
        "partner key": partner_key,
        "webhook secret": webhook_secret,
        "webhook secret body": webhook_secret.removeprefix("whsec_"),
        "NATS service password": stack.nats.service_password(),
        "secret key": stack.env()["PALABRE_SECRET_KEY"],
    }
    logs = {path.name: path.read_text(errors="replace") for path in (stack.root / "logs").glob("*.log")}
    logs["nats-server.log"] = (stack.root / "nats" / "nats-server.log").read_text(errors="replace")
    assert set(logs) >= {"intake.log", "moderation.log", "synthesis.log", "notifications.log"}
    leaks = [f"{what} in {name}" for what, value in secrets.items() for name, text in logs.items() if value in text]
    assert not leaks, leaks
