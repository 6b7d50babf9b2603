"""Credentials have a life: a partner's key is rotated or revoked, a moderator's password changed or the
account disabled, each taking effect at once and each written to an audit trail."""

import base64
import secrets

import httpx

from tests.security.support import CSRF_INPUT, PASSWORD, create_moderator, sign_in

ANY_CONTRIBUTION = "/v1/contributions/0b7e8a52-1c1d-4f4e-9a61-5d5d3c1f2a10"  # 404 once authenticated


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def audit(stack, service: str) -> list[dict]:
    response = httpx.get(f"{stack.url(service)}/v1/admin/credential-events", headers=stack.admin_headers,
                         timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_a_partner_key_is_rotated_then_revoked_and_both_are_audited(stack):
    partner = f"cycle-{secrets.token_hex(3)}"
    notifications = stack.url("notifications")
    first_key = stack.create_partner(partner)

    def opens(key: str) -> int:
        return httpx.get(f"{notifications}/v1/subscriptions", headers=bearer(key), timeout=30).status_code

    assert opens(first_key) == 200
    rotated = httpx.post(f"{notifications}/v1/partners/{partner}/keys", headers=stack.admin_headers, timeout=30)
    assert rotated.status_code == 201, rotated.text
    second_key = rotated.json()["api_key"]
    assert (opens(first_key), opens(second_key)) == (401, 200)
    # a partner key does not rotate keys
    assert httpx.post(f"{notifications}/v1/partners/{partner}/keys", headers=bearer(second_key),
                      timeout=30).status_code == 401

    revoked = httpx.delete(f"{notifications}/v1/partners/{partner}/keys", headers=stack.admin_headers, timeout=30)
    assert revoked.status_code == 200 and opens(second_key) == 401
    assert httpx.delete(f"{notifications}/v1/partners/nobody-{partner}/keys", headers=stack.admin_headers,
                        timeout=30).status_code == 404
    trail = [(e["subject"], e["action"], e["actor"]) for e in audit(stack, "notifications")
             if e["subject"] == f"partner:{partner}"]
    assert trail == [(f"partner:{partner}", "key revoked", "network-admin"),
                     (f"partner:{partner}", "key rotated", "network-admin")]


def test_a_moderator_password_is_changed_then_the_account_disabled_all_audited(stack):
    moderation = stack.url("moderation")
    login = create_moderator(stack, f"cycle-{secrets.token_hex(3)}")
    session = sign_in(stack, login)
    assert session.get("/queue").status_code == 200

    def opens(password: str) -> int:
        return httpx.get(f"{moderation}{ANY_CONTRIBUTION}", headers=basic(login, password), timeout=60).status_code

    # the moderator changes their own password: the old one stops, and so do their open sessions
    new_password = "une-toute-nouvelle-phrase"
    changed = httpx.put(f"{moderation}/v1/moderators/{login}/password", headers=basic(login, PASSWORD),
                        json={"password": new_password}, timeout=60)
    assert changed.status_code == 200, changed.text
    assert (opens(PASSWORD), opens(new_password)) == (401, 404)
    assert session.get("/queue", follow_redirects=False).status_code in (302, 303)
    # another moderator may not change it
    other = create_moderator(stack, f"other-{secrets.token_hex(3)}")
    assert httpx.put(f"{moderation}/v1/moderators/{login}/password", headers=basic(other, PASSWORD),
                     json={"password": "encore-une-autre-phrase"}, timeout=60).status_code == 403
    assert httpx.put(f"{moderation}/v1/moderators/{login}/password", headers=stack.admin_headers,
                     json={"password": "court"}, timeout=60).status_code == 422

    # the network admin disables the account: the right password no longer opens anything
    assert httpx.post(f"{moderation}/v1/moderators/{login}/disable", headers=basic(other, PASSWORD),
                      timeout=60).status_code == 403
    disabled = httpx.post(f"{moderation}/v1/moderators/{login}/disable", headers=stack.admin_headers, timeout=60)
    assert disabled.status_code == 200, disabled.text
    assert opens(new_password) == 401
    with httpx.Client(base_url=moderation, timeout=60) as client:
        token = CSRF_INPUT.search(client.get("/login").text).group(1)
        form = client.post("/login", data={"csrf_token": token, "login": login, "password": new_password})
        assert form.status_code == 401 and "palabre_session" not in form.cookies

    trail = [(e["action"], e["actor"]) for e in audit(stack, "moderation") if e["subject"] == f"moderator:{login}"]
    assert trail == [("disabled", "network-admin"), ("password changed", login)]
