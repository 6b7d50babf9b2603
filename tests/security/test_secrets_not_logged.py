"""Secrets never reach a log: after the operations that handle every kind of secret (admin key, territory
keys old and new, a territory's NATS password, partner keys, webhook signing secrets, moderators' passwords
right and wrong, session tokens, the NATS service password, the secret key), none of them appears in any
service's log nor in nats-server's."""

from contextlib import closing

import httpx

from tests.harness import wait_for
from tests.security.support import CSRF_INPUT, PASSWORD, create_moderator, sign_in


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
    nats_password = httpx.post(f"{stack.url('intake')}/v1/territories/secrets-rouen/nats-credentials",
                               headers=stack.admin_headers, timeout=30).json()["nats"]["password"]

    login = create_moderator(stack, "secrets-moderatrice", "secrets-rouen")
    wrong_password = PASSWORD + "-mais-faux"
    with httpx.Client(base_url=stack.url("moderation"), timeout=30) as client:
        token = CSRF_INPUT.search(client.get("/login").text).group(1)
        refused = client.post("/login", data={"csrf_token": token, "login": login, "password": wrong_password})
        assert refused.status_code == 401
    with closing(sign_in(stack, login)) as client:
        session_token = client.cookies.get("palabre_session")
        assert client.get("/queue").status_code == 200

    secrets = {
        "admin key": stack.admin_key,
        "territory key": territory_key,
        "rotated territory key": new_key,
        "refused key": wrong,
        "partner key": partner_key,
        "webhook secret": webhook_secret,
        "webhook secret body": webhook_secret.removeprefix("whsec_"),
        "territory NATS password": nats_password,
        "moderator password": PASSWORD,
        "wrong moderator password": wrong_password,
        "session token": session_token,
        "NATS service password": stack.nats.service_password(),
        "secret key": stack.env()["PALABRE_SECRET_KEY"],
    }
    logs = {path.name: path.read_text(errors="replace") for path in (stack.root / "logs").glob("*.log")}
    logs["nats-server.log"] = (stack.root / "nats" / "nats-server.log").read_text(errors="replace")
    assert set(logs) >= {"intake.log", "moderation.log", "synthesis.log", "notifications.log"}
    leaks = [f"{what} in {name}" for what, value in secrets.items() for name, text in logs.items() if value in text]
    assert not leaks, leaks
