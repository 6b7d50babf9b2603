"""Moderators' sign-in: scrypt-hashed passwords, server-side sessions, CSRF tokens.

A session is a random token in an HttpOnly, SameSite=Lax cookie; the database keeps only its SHA-256
hash, with its expiry and the session's CSRF token. Every form posts that token back, and a POST whose
Origin (or, without one, Referer) names another site is refused as well.

Extension point for a single sign-on provider (OIDC, e.g. ProConnect): not built yet. It would add two
routes beside `/login` — one redirecting to the provider's authorisation endpoint with a `state` and a
PKCE verifier kept in a short-lived cookie, and a callback that exchanges the code, verifies the ID
token against the provider's published keys, maps its `sub` (or verified e-mail) to a row of
`moderators`, then calls `start_session(pool, login)` below exactly as the password sign-in does. The
session, CSRF and role checks stay as they are; only how a person proves who they are changes. Its
settings (issuer URL, client id and secret, redirect URL) would be `PALABRE_MODERATION_OIDC_*`.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

import asyncpg
from fastapi import Request
from pydantic import BaseModel

from services.moderation import store
from services.moderation.settings import get_moderation_settings
from shared.auth import LoginThrottle, hash_api_key, password_matches

SESSION_COOKIE = "palabre_session"
LOGIN_CSRF_COOKIE = "palabre_login_csrf"
LANGUAGE_COOKIE = "palabre_lang"
# Failed sign-ins, by login and by address, of the form and of the API's Basic authentication together.
throttle = LoginThrottle(per_login=get_moderation_settings().login_failures_per_login,
                         per_address=get_moderation_settings().login_failures_per_address,
                         window_s=get_moderation_settings().login_window_s)


class SignedIn(BaseModel):
    login: str
    territory: str | None
    role: str
    language: str
    csrf_token: str

    @property
    def is_network(self) -> bool:
        return self.role == "network"

    def may_act_on(self, territory: str) -> bool:
        return self.is_network or self.territory == territory


class Throttled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


async def check_password(pool: asyncpg.Pool, login: str, password: str, address: str) -> dict | None:
    """The moderator whose login and password these are (a disabled one is not), or None; raises
    `Throttled` when this login or this address failed too often lately."""
    wait_s = throttle.retry_after(login, address)
    if wait_s is not None:
        raise Throttled(wait_s)
    moderator = await store.moderator(pool, login)
    valid = await password_matches(password, moderator["password_hash"] if moderator else None)
    if not valid or moderator.get("disabled_at") is not None:
        throttle.failed(login, address)
        return None
    throttle.succeeded(login)
    return moderator


async def start_session(pool: asyncpg.Pool, login: str) -> str:
    """Opens a session for `login`; returns the token for the cookie (kept only hashed)."""
    token = secrets.token_urlsafe(32)
    await store.open_session(pool, hash_api_key(token), login, secrets.token_urlsafe(32),
                             get_moderation_settings().session_hours)
    return token


async def end_session(pool: asyncpg.Pool, request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await store.close_session(pool, hash_api_key(token))


async def signed_in(request: Request) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    row = await store.session(request.app.state.runtime.db, hash_api_key(token))
    return SignedIn(**row) if row else None


def session_cookie_options() -> dict:
    settings = get_moderation_settings()
    return {"httponly": True, "samesite": "lax", "secure": settings.secure_cookies, "path": "/",
            "max_age": int(settings.session_hours * 3600)}


def same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this site: its Origin (or Referer) names this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # not sent by some clients; the CSRF token still has to match
    if source == "null":
        return False
    return urlsplit(source).netloc == request.headers.get("host", "")


def csrf_valid(request: Request, expected: str | None, submitted: str | None) -> bool:
    if not expected or not submitted or not same_origin(request):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
