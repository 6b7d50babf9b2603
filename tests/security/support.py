"""Helpers for the security tests: a moderator and a signed-in session of the moderators' web UI, driven
over plain HTTP (the forms as a browser posts them, without a browser)."""

import re
import secrets

import httpx

from tests.harness import MODERATOR_PASSWORD as PASSWORD
from tests.harness import Stack, create_moderator  # noqa: F401 - the security tests take it from here

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')
POST_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>(.*?)</form>', re.DOTALL | re.IGNORECASE)




def strict_territory(stack: Stack, prefix: str, bodies: list[str]) -> tuple[str, str, list[str]]:
    """A territory where everything waits for a person: (id, API key, ids of its held contributions)."""
    territory = f"{prefix}-{secrets.token_hex(3)}"
    key = stack.create_territory(territory, "FR", moderation_mode="strict")
    response = stack.submit(key, {"contributions": [
        {"external_id": f"e-{i}", "kind": "proposition", "body": body} for i, body in enumerate(bodies)]})
    assert response.status_code == 202, response.text
    ids = [accepted["id"] for accepted in response.json()["accepted"]]
    statuses = stack.wait_final(key, ids)
    assert {s["status"] for s in statuses.values()} == {"held"}, statuses
    return territory, key, ids


def sign_in(stack: Stack, login: str) -> httpx.Client:
    """A client holding a session cookie, signed in through the login form (with its CSRF token)."""
    client = httpx.Client(base_url=stack.url("moderation"), timeout=30)
    page = client.get("/login")
    assert page.status_code == 200, page.text
    token = CSRF_INPUT.search(page.text).group(1)
    answer = client.post("/login", data={"csrf_token": token, "login": login, "password": PASSWORD,
                                         "next": "/queue"})
    assert answer.status_code == 303 and answer.headers["location"] == "/queue", answer.text
    assert client.cookies.get("palabre_session")
    return client
