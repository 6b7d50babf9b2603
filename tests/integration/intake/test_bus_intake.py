"""Bus intake against the real nats-server: each territory's NATS user publishes on its own subject only,
and what it publishes is validated like HTTP input (the invalid goes to the dead-letter stream)."""

import asyncio
import json

import httpx
import nats
import pytest
from nats.errors import NoServersError

from shared.bus import DEAD_LETTER_STREAM, DLQ_REASON, DLQ_SUBJECT, INTAKE_STREAM
from shared.events import contribution_id_for
from tests.harness import async_wait_for


def register(stack, slug: str, country: str = "FR") -> dict:
    response = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=30,
                          json={"id": slug, "name": slug.title(), "kind": "commune", "country": country})
    assert response.status_code == 201, response.text
    return response.json()


def proposed(event_id: str, data: dict) -> bytes:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/decidim/test", "time":
                       "2026-03-01T10:00:00Z", "type": "palabre.contribution.proposed.v1", "data": data}).encode()


async def connect_as(credentials: dict, errors: list | None = None) -> nats.NATS:
    async def on_error(exc):
        if errors is not None:
            errors.append(str(exc))

    return await nats.connect(credentials["servers"], user=credentials["user"], password=credentials["password"],
                              inbox_prefix=credentials["inbox_prefix"], error_cb=on_error,
                              allow_reconnect=False, connect_timeout=5)


async def connect_when_allowed(credentials: dict, errors: list) -> nats.NATS:
    """The server learns a new user at its reload, a moment after the answer: wait for it."""
    for _ in range(100):
        try:
            return await connect_as(credentials, errors)
        except (NoServersError, nats.errors.Error, OSError):
            await asyncio.sleep(0.1)
    raise AssertionError("the territory's NATS user was never accepted")


async def refused(credentials: dict) -> bool:
    try:
        nc = await connect_as(credentials)
    except (NoServersError, nats.errors.Error, OSError):
        return True
    await nc.close()
    return False


async def subject_messages(nc, stream: str, subject: str) -> int:
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def test_a_territory_publishes_on_its_own_subject_only_and_its_event_is_decided(stack):
    a = register(stack, "bus-a")
    b = register(stack, "bus-b")
    creds_a = a["nats"]
    assert creds_a["subject"] == "palabre.intake.bus-a" and b["nats"]["subject"] == "palabre.intake.bus-b"
    stored = await stack.sql("SELECT password_hash FROM intake.nats_users WHERE territory = 'bus-a'")
    assert stored[0]["password_hash"].startswith("$2") and creds_a["password"] not in stored[0]["password_hash"]
    assert creds_a["password"] not in (stack.root / "nats" / "auth.conf").read_text()
    assert creds_a["password"] not in stack.log("intake")

    errors: list[str] = []
    nc_a = await connect_when_allowed(creds_a, errors)
    js_a = nc_a.jetstream(timeout=2)
    service = await stack.nats_connect()
    forbidden = ["palabre.intake.bus-b", "palabre.contribution.submitted.fr.bus-a", "palabre.intake.bus-a.x"]
    for subject in forbidden:
        with pytest.raises(nats.errors.TimeoutError):
            await js_a.publish(subject, proposed(f"forged-{subject}", {"external_id": "forged", "body": "Faux."}))
    await nc_a.flush()
    await async_wait_for(lambda: _true(len([e for e in errors if "Permissions Violation" in e or
                                            "permissions violation" in e]) >= len(forbidden)),
                         what="the server to refuse every forbidden publish")
    assert await subject_messages(service, INTAKE_STREAM.name, "palabre.intake.bus-b") == 0
    assert await subject_messages(service, "PALABRE_EVENTS", "palabre.contribution.submitted.fr.bus-a") == 0
    await nc_a.subscribe("palabre.contribution.>")
    await nc_a.flush()
    await async_wait_for(lambda: _true(any("subscription" in e.lower() and "palabre.contribution.>" in e
                                           for e in errors)), what="the server to refuse reading events")

    ack = await js_a.publish("palabre.intake.bus-a", proposed("bus-a-1", {
        "external_id": "bus-1", "kind": "proposition", "axis": "maitrise",
        "body": "Publier chaque année la liste des algorithmes utilisés par la commune."}))
    assert ack.stream == INTAKE_STREAM.name
    contribution_id = contribution_id_for("bus-a", "bus-1")
    status = stack.wait_final(a["api_key"], [contribution_id])[contribution_id]
    assert status["status"] == "published" and status["territory"] == "bus-a"
    assert status["decision"]["statement"]["contribution_id"] == contribution_id
    none_in_b = httpx.get(f"{stack.url('intake')}/v1/contributions/{contribution_id}",
                          headers={"Authorization": f"Bearer {b['api_key']}"})
    assert none_in_b.status_code == 404

    again = await js_a.publish("palabre.intake.bus-a", proposed("bus-a-1-resent", {
        "external_id": "bus-1", "body": "Un autre texte pour le même identifiant."}))
    assert again.duplicate is not True  # a new event id: intake itself must see the duplicate
    await nc_a.close()

    async def dead_lettered() -> bool:  # (a retry after a slow first try comes later, not at once)
        return bool(await dead_letter_reasons(service.jetstream(), "palabre.intake.bus-a"))

    await async_wait_for(dead_lettered, what="intake to dead-letter the re-sent event")
    # another text under the same external_id is said, not swallowed: dead-lettered with its reason
    [reason] = await dead_letter_reasons(service.jetstream(), "palabre.intake.bus-a")
    assert "'bus-1' already names contribution" in reason and contribution_id in reason
    await service.close()
    rows = await stack.sql("SELECT body FROM intake.contributions WHERE territory = 'bus-a'")
    assert [r["body"] for r in rows] == ["Publier chaque année la liste des algorithmes utilisés par la commune."]


async def _true(value: bool) -> bool:
    return value


async def dead_letter_reasons(js, subject: str) -> list[str]:
    """The reasons of the proposals from `subject` that intake dead-lettered."""
    found = []
    last = (await js.stream_info(DEAD_LETTER_STREAM.name)).state.last_seq
    for seq in range(1, last + 1):
        try:
            message = await js.get_msg(DEAD_LETTER_STREAM.name, seq)
        except nats.js.errors.NotFoundError:
            continue
        if message.subject == "palabre.dlq.intake-proposed" and message.headers[DLQ_SUBJECT] == subject:
            found.append(message.headers[DLQ_REASON])
    return found


async def test_invalid_proposed_events_go_to_the_dead_letter_stream_with_their_reason(stack):
    creds = register(stack, "bus-invalid")["nats"]
    nc = await connect_when_allowed(creds, [])
    js = nc.jetstream(timeout=5)
    subject = creds["subject"]
    await js.publish(subject, b"{not json")
    await js.publish(subject, proposed("inv-territory", {"external_id": "t1", "body": "Texte.", "territory": "bus-a"}))
    await js.publish(subject, proposed("inv-axis", {"external_id": "t2", "body": "Texte sur un axe inconnu.",
                                                    "axis": "climat"}))
    await js.publish(subject, proposed("inv-body", {"external_id": "t3", "body": "   "}))
    await js.publish(subject, json.dumps({"specversion": "1.0", "id": "inv-type", "source": "/x", "time":
                                          "2026-03-01T10:00:00Z", "type": "palabre.contribution.submitted.v1",
                                          "data": {"external_id": "t4", "body": "Texte."}}).encode())
    await nc.close()

    service = await stack.nats_connect()
    js = service.jetstream()

    async def reasons() -> list[str] | None:
        found = await dead_letter_reasons(js, subject)
        return found if len(found) >= 5 else None

    found = await async_wait_for(reasons, 30, what="five dead letters")
    assert any("JSON" in r for r in found)
    assert any("territory" in r and "Extra inputs are not permitted" in r for r in found)
    assert any("axis" in r and "'climat'" in r for r in found)
    assert any("/data/body" in r for r in found)
    assert any("palabre.contribution.submitted.v1" in r for r in found)
    rows = await stack.sql("SELECT count(*) AS n FROM intake.contributions WHERE territory = 'bus-invalid'")
    assert rows[0]["n"] == 0
    await service.close()


async def test_nats_credentials_rotate_and_revoke(stack):
    creds = register(stack, "bus-rotate")["nats"]
    await (await connect_when_allowed(creds, [])).close()
    url = f"{stack.url('intake')}/v1/territories/bus-rotate/nats-credentials"
    rotated = httpx.post(url, headers=stack.admin_headers, timeout=30)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["nats"]
    assert new["password"] != creds["password"]
    await async_wait_for(lambda: refused(creds), what="the old password to be refused")
    await (await connect_when_allowed(new, [])).close()

    revoked = httpx.delete(url, headers=stack.admin_headers, timeout=30)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    await async_wait_for(lambda: refused(new), what="the revoked user to be refused")
    not_admin = httpx.post(url, headers={"Authorization": "Bearer pk_nope"}, timeout=30)
    assert not_admin.status_code == 401
