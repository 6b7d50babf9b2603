"""Secrets are stored hashed: after every operation that creates one (a territory's API key and NATS
password, a rotated key, a partner key, a moderator's password, a sign-in session), none of them appears in
any table of the database, in text or in bytes, while the hash that checks it is there. The one exception
is by design: a webhook signing secret signs each delivery (HMAC, Standard Webhooks), so notifications
keeps it, in its subscriptions table only."""

import hashlib
import secrets
from contextlib import closing

import bcrypt
import httpx

from shared.auth import verify_password
from tests.security.support import PASSWORD, create_moderator, sign_in


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def tables_holding(stack, values: dict[str, str]) -> dict[str, set[str]]:
    """For each named value, the tables (schema.table) where a row holds it as text or as bytes."""
    tables = await stack.sql(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
    needles = [(name, form) for name, value in values.items() for form in (value, value.encode().hex())]
    found: dict[str, set[str]] = {name: set() for name in values}
    for table in tables:
        qualified = f'"{table["table_schema"]}"."{table["table_name"]}"'
        rows = await stack.sql(
            f"SELECT n.i FROM unnest($1::text[]) WITH ORDINALITY AS n(needle, i) "
            f"WHERE EXISTS (SELECT 1 FROM {qualified} t WHERE strpos(t::text, n.needle) > 0)",
            [form for _, form in needles])
        for row in rows:
            found[needles[row["i"] - 1][0]].add(f'{table["table_schema"]}.{table["table_name"]}')
    return found


async def test_no_secret_is_stored_in_clear(stack, receiver):
    slug = f"hashed-{secrets.token_hex(3)}"
    created = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=30,
                         json={"id": slug, "name": "Hachée", "kind": "commune", "country": "FR"})
    assert created.status_code == 201, created.text
    territory_key, nats = created.json()["api_key"], created.json()["nats"]
    rotated = httpx.post(f"{stack.url('intake')}/v1/territories/{slug}/keys", headers=stack.admin_headers,
                         timeout=30)
    assert rotated.status_code == 201, rotated.text
    partner = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers, timeout=30,
                         json={"id": f"p-{slug}", "name": "Partenaire"})
    assert partner.status_code == 201, partner.text
    partner_key = partner.json()["api_key"]
    subscription = httpx.post(f"{stack.url('notifications')}/v1/subscriptions", timeout=30,
                              headers={"Authorization": f"Bearer {partner_key}"},
                              json={"url": receiver.url, "filters": {"territories": [slug]}})
    assert subscription.status_code == 201, subscription.text
    webhook_secret = subscription.json()["secret"]
    login = create_moderator(stack, f"m-{slug}", slug)
    with closing(sign_in(stack, login)) as client:
        session_token = client.cookies.get("palabre_session")

    secrets_in_clear = {
        "territory key": territory_key, "rotated territory key": rotated.json()["api_key"],
        "NATS password": nats["password"], "partner key": partner_key, "moderator password": PASSWORD,
        "session token": session_token, "admin key": stack.admin_key,
    }
    found = await tables_holding(stack, {**secrets_in_clear, "webhook secret": webhook_secret.removeprefix("whsec_")})
    assert {name: tables for name, tables in found.items() if name != "webhook secret" and tables} == {}
    assert found["webhook secret"] == {"notifications.subscriptions"}

    # ... while the hashes that check them are there
    keys = await stack.sql("SELECT key_hash FROM intake.api_keys WHERE territory = $1", slug)
    assert {row["key_hash"] for row in keys} == {sha256(territory_key), sha256(rotated.json()["api_key"])}
    nats_user = await stack.sql("SELECT password_hash FROM intake.nats_users WHERE territory = $1", slug)
    assert bcrypt.checkpw(nats["password"].encode(), nats_user[0]["password_hash"].encode())
    partner_row = await stack.sql("SELECT key_hash FROM notifications.partners WHERE id = $1", f"p-{slug}")
    assert partner_row[0]["key_hash"] == sha256(partner_key)
    moderator = await stack.sql("SELECT password_hash FROM moderation.moderators WHERE login = $1", login)
    assert moderator[0]["password_hash"].startswith("scrypt$")
    assert verify_password(PASSWORD, moderator[0]["password_hash"])
    session = await stack.sql("SELECT login FROM moderation.sessions WHERE token_hash = $1", sha256(session_token))
    assert [row["login"] for row in session] == [login]
