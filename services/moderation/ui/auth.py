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

import asyncio
import hmac
import secrets
from urllib.parse import urlsplit

import asyncpg
from fastapi import Request
from pydantic import BaseModel

from services.moderation import store
from services.moderation.settings import get_moderation_settings
from shared.auth import hash_api_key, hash_password, verify_password

SESSION_COOKIE = "palabre_session"
LOGIN_CSRF_COOKIE = "palabre_login_csrf"
LANGUAGE_COOKIE = "palabre_lang"
# Compared against when the login is unknown, so that a wrong login costs as long as a wrong password.
_UNKNOWN_LOGIN_HASH = hash_password(secrets.token_urlsafe(16))


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


async def check_password(pool: asyncpg.Pool, login: str, password: str) -> bool:
    moderator = await store.moderator(pool, login)
    stored = moderator["password_hash"] if moderator else _UNKNOWN_LOGIN_HASH
    valid = await asyncio.to_thread(verify_password, password, stored)
    return valid and moderator is not None


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
