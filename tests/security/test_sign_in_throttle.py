"""Guessing passwords is slowed: a login, or an address, that failed too often is refused for a while, on
the sign-in form and on the API's Basic authentication alike; an unknown login costs a password check as a
wrong password does; passwords are hashed with scrypt at OWASP's cost."""

import base64
import secrets
import hashlib

import httpx
import pytest

from shared import auth
from shared.auth import SCRYPT_LOG_N, SCRYPT_P, SCRYPT_R, hash_password, verify_password
from tests.security.support import CSRF_INPUT, PASSWORD, create_moderator

PER_LOGIN, PER_ADDRESS = 3, 7
ANY_CONTRIBUTION = "/v1/contributions/0b7e8a52-1c1d-4f4e-9a61-5d5d3c1f2a10"  # behind Basic authentication


@pytest.fixture(scope="module")
def throttled(stack) -> str:
    """A second moderation process, with small limits, so that its throttling is this module's alone."""
    process = stack.start_service("moderation", 1, PALABRE_MODERATION_LOGIN_FAILURES_PER_LOGIN=str(PER_LOGIN),
                                  PALABRE_MODERATION_LOGIN_FAILURES_PER_ADDRESS=str(PER_ADDRESS))
    yield f"http://127.0.0.1:{process.port}"
    process.stop()


def form_sign_in(base_url: str, login: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = CSRF_INPUT.search(client.get("/login").text).group(1)
        return client.post("/login", data={"csrf_token": token, "login": login, "password": password,
                                           "next": "/queue"})


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def test_a_login_that_failed_too_often_waits_even_with_its_right_password(stack, throttled):
    login = create_moderator(stack, f"garde-{secrets.token_hex(3)}")
    for _ in range(PER_LOGIN):
        assert form_sign_in(throttled, login, "pas-le-bon-mot-de-passe").status_code == 401
    refused = form_sign_in(throttled, login, PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "palabre_session" not in refused.cookies
    # the API's Basic authentication shares the count
    api = httpx.get(f"{throttled}{ANY_CONTRIBUTION}", headers=basic(login, PASSWORD), timeout=60)
    assert api.status_code == 429 and api.headers["content-type"] == "application/problem+json"
    # the other process has its own count: the right password still works there
    assert form_sign_in(stack.url("moderation"), login, PASSWORD).status_code == 303


def test_basic_authentication_failures_throttle_the_login_too(stack, throttled):
    login = create_moderator(stack, f"basic-{secrets.token_hex(3)}")
    for _ in range(PER_LOGIN):
        assert httpx.get(f"{throttled}{ANY_CONTRIBUTION}", headers=basic(login, "faux"), timeout=60).status_code == 401
    assert httpx.get(f"{throttled}{ANY_CONTRIBUTION}", headers=basic(login, PASSWORD), timeout=60).status_code == 429
    assert form_sign_in(throttled, login, PASSWORD).status_code == 429


def test_an_address_trying_many_logins_is_throttled(stack, throttled):
    """Runs last in this module: it uses up the address's allowance on this process."""
    login = create_moderator(stack, f"adresse-{secrets.token_hex(3)}")
    answers = [form_sign_in(throttled, f"inconnu-{i}", "devine").status_code for i in range(PER_ADDRESS + 1)]
    assert answers.count(401) <= PER_ADDRESS and answers[-1] == 429
    assert form_sign_in(throttled, login, PASSWORD).status_code == 429


async def test_an_unknown_login_costs_one_password_check_as_a_wrong_password_does(monkeypatch):
    stored = hash_password("le-bon-mot-de-passe")
    checks: list[int] = []
    real_scrypt = auth._scrypt

    def counted(*args):
        checks.append(1)
        return real_scrypt(*args)

    monkeypatch.setattr(auth, "_scrypt", counted)
    auth._unknown_login_hash()  # made once per process, beforehand
    checks.clear()
    assert not await auth.password_matches("faux", stored)
    wrong_password = len(checks)
    checks.clear()
    assert not await auth.password_matches("faux", None)
    assert len(checks) == wrong_password == 1


async def test_a_right_password_is_checked_once_then_remembered_with_its_hash(monkeypatch):
    stored, other = hash_password("le-bon-mot-de-passe"), hash_password("le-bon-mot-de-passe")
    checks: list[int] = []
    real_scrypt = auth._scrypt
    monkeypatch.setattr(auth, "_scrypt", lambda *args: checks.append(1) or real_scrypt(*args))
    assert await auth.password_matches("le-bon-mot-de-passe", stored)
    assert await auth.password_matches("le-bon-mot-de-passe", stored)
    assert len(checks) == 1
    # a wrong password, or the same password under another hash (changed since), is checked in full
    assert not await auth.password_matches("le-bon-mot-de-passe!", stored)
    assert await auth.password_matches("le-bon-mot-de-passe", other)
    assert len(checks) == 3


def test_passwords_are_hashed_at_owasp_cost_and_older_hashes_still_verify():
    assert (2**SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P) == (131072, 8, 1)
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("scrypt$17$8$1$") and verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapler", stored)
    salt = bytes.fromhex("00112233445566778899aabbccddeeff")
    legacy = f"scrypt${salt.hex()}$" + hashlib.scrypt(b"ancien", salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
    assert verify_password("ancien", legacy) and not verify_password("autre", legacy)
