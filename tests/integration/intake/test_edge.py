"""The edge of intake against the real service: validation, limits, keys, rate limit, problems, exports."""

import csv
import io
import socket
import unicodedata

import httpx
import pytest

from palabre.embedded import ServiceProcess, free_port
from tests.harness import async_wait_for

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def edge(intake_stack) -> tuple:
    key = intake_stack.create_territory("edge-a")
    other = intake_stack.create_territory("edge-b", country="BE", timezone="Europe/Brussels")
    return intake_stack, key, other


def post(stack, key: str, payload=None, **kwargs) -> httpx.Response:
    return httpx.post(f"{stack.url('intake')}/v1/contributions", json=payload,
                      headers={"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}, timeout=60, **kwargs)


def test_oversize_body_and_oversize_batch_are_refused(edge):
    stack, key, _ = edge
    huge = b'{"external_id": "big", "body": "' + b"a" * (8 * 1024 * 1024 + 10) + b'"}'
    response = httpx.post(f"{stack.url('intake')}/v1/contributions", content=huge, timeout=60,
                          headers={"Authorization": f"Bearer {key}", "content-type": "application/json"})
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM

    batch = {"contributions": [{"external_id": f"n-{i}", "body": "Un texte."} for i in range(1001)]}
    response = post(stack, key, batch)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert any(e["pointer"] == "/contributions" and "1000" in e["detail"] for e in response.json()["errors"])

    long_body = post(stack, key, {"external_id": "long", "body": "x" * 20_001})
    assert long_body.status_code == 422 and any(e["pointer"] == "/body" for e in long_body.json()["errors"])


async def test_an_unknown_axis_or_consultation_refuses_the_request_and_writes_nothing(edge):
    stack, key, _ = edge
    batch = {"contributions": [
        {"external_id": "ax-ok", "body": "Former les agents.", "axis": "travail"},
        {"external_id": "ax-bad", "body": "Sur un axe inconnu.", "axis": "climat"},
        {"external_id": "co-bad", "body": "Dans une consultation inconnue.", "consultation": "ailleurs"},
    ]}
    response = post(stack, key, batch)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    pointers = {e["pointer"]: e["detail"] for e in response.json()["errors"]}
    assert set(pointers) == {"/contributions/1/axis", "/contributions/2/consultation"}
    assert "'climat'" in pointers["/contributions/1/axis"] and "maitrise" in pointers["/contributions/1/axis"]
    rows = await stack.sql("SELECT count(*) AS n FROM intake.contributions WHERE external_id LIKE 'ax-%'")
    assert rows[0]["n"] == 0


async def test_text_is_normalised_and_the_language_detected_when_absent(edge):
    stack, key, _ = edge
    decomposed = unicodedata.normalize("NFD", "Les élus doivent être formés à l'IA.\r\nMême en été.")
    answer = post(stack, key, {"contributions": [
        {"external_id": "nfc-1", "body": decomposed + "\x07  "},
        {"external_id": "lang-en", "body": "The city should publish every algorithm it uses, and explain why."},
        {"external_id": "lang-given", "body": "Un texte.", "language": "fr-ca"},
    ]}).json()
    assert len(answer["accepted"]) == 3
    rows = {r["external_id"]: r for r in await stack.sql(
        "SELECT external_id, body, language FROM intake.contributions WHERE external_id = ANY($1)",
        ["nfc-1", "lang-en", "lang-given"])}
    assert rows["nfc-1"]["body"] == "Les élus doivent être formés à l'IA.\nMême en été."
    assert unicodedata.is_normalized("NFC", rows["nfc-1"]["body"])
    assert rows["nfc-1"]["language"] == "fr" and rows["lang-en"]["language"] == "en"
    assert rows["lang-given"]["language"] == "fr-CA"

    resent = post(stack, key, {"external_id": "nfc-1", "body": decomposed}).json()  # the same text, normalised
    assert resent["accepted"] == [] and resent["duplicates"][0]["external_id"] == "nfc-1"
    assert post(stack, key, {"external_id": "nfc-1", "body": "Un autre texte."}).status_code == 409
    body = await stack.sql("SELECT body FROM intake.contributions WHERE external_id = 'nfc-1'")
    assert body[0]["body"].startswith("Les élus")


def test_a_key_reaches_only_its_own_territory_both_ways(edge):
    stack, key_a, key_b = edge
    id_a = post(stack, key_a, {"external_id": "own-a", "body": "Texte de A."}).json()["accepted"][0]["id"]
    id_b = post(stack, key_b, {"external_id": "own-b", "body": "Texte de B."}).json()["accepted"][0]["id"]
    for key, own, foreign in ((key_a, id_a, id_b), (key_b, id_b, id_a)):
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{stack.url('intake')}/v1/contributions/{own}", headers=headers).status_code == 200
        response = httpx.get(f"{stack.url('intake')}/v1/contributions/{foreign}", headers=headers)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    # the same external_id in two territories is two contributions
    same = post(stack, key_b, {"external_id": "own-a", "body": "Texte de B, même identifiant."}).json()
    assert len(same["accepted"]) == 1 and same["accepted"][0]["id"] != id_a
    admin = httpx.get(f"{stack.url('intake')}/v1/contributions/{id_b}", headers=stack.admin_headers)
    assert admin.status_code == 200 and admin.json()["territory"] == "edge-b"


async def test_keys_are_shown_once_stored_hashed_rotated_and_revoked(intake_stack):
    stack = intake_stack
    created = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=30,
                         json={"id": "edge-keys", "name": "Clés", "kind": "ville", "country": "CM",
                               "timezone": "Africa/Douala", "charter_version": "2024-09"})
    assert created.status_code == 201
    key = created.json()["api_key"]
    stored = await stack.sql("SELECT key_hash FROM intake.api_keys WHERE territory = 'edge-keys'")
    assert len(stored) == 1 and key not in stored[0]["key_hash"]
    listed = httpx.get(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers).text
    assert key not in listed
    again = httpx.post(f"{stack.url('intake')}/v1/territories", headers=stack.admin_headers, timeout=30,
                       json={"id": "edge-keys", "name": "Clés", "kind": "ville", "country": "CM"})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM

    rotated = httpx.post(f"{stack.url('intake')}/v1/territories/edge-keys/keys?revoke_others=true",
                         headers=stack.admin_headers).json()["api_key"]
    assert post(stack, rotated, {"external_id": "k1", "body": "Avec la nouvelle clé."}).status_code == 202
    assert post(stack, key, {"external_id": "k2", "body": "Avec l'ancienne clé."}).status_code == 401
    assert httpx.delete(f"{stack.url('intake')}/v1/territories/edge-keys/keys",
                        headers=stack.admin_headers).json()["revoked"] == 1
    assert post(stack, rotated, {"external_id": "k3", "body": "Après révocation."}).status_code == 401
    assert httpx.delete(f"{stack.url('intake')}/v1/territories/edge-keys/keys",
                        headers={"Authorization": f"Bearer {rotated}"}).status_code == 401


def test_every_error_is_a_problem_document(edge):
    stack, key, _ = edge
    base = stack.url("intake")
    responses = [
        httpx.get(f"{base}/v1/no-such-route"),
        httpx.put(f"{base}/v1/contributions", headers={"Authorization": f"Bearer {key}"}),
        httpx.post(f"{base}/v1/contributions", content=b"<xml/>",
                   headers={"Authorization": f"Bearer {key}", "content-type": "application/xml"}),
        httpx.post(f"{base}/v1/territories", json={"id": "X"}, headers=stack.admin_headers),
        httpx.post(f"{base}/v1/consultations/nope/close", headers=stack.admin_headers),
        httpx.post(f"{base}/v1/imports", headers={"Authorization": f"Bearer {key}"}, data={"format": "csv"},
                   files={"other": ("x", b"y")}),
    ]
    assert [r.status_code for r in responses] == [404, 405, 415, 422, 404, 422]
    for response in responses:
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"]


def test_csv_export_neutralises_formulas(edge):
    stack, key, _ = edge
    post(stack, key, {"external_id": "=HYPERLINK(\"http://x\",\"clic\")", "body": "Un texte ordinaire."})
    post(stack, key, {"external_id": "@SUM(1+1)", "body": "Un autre texte ordinaire."})
    response = httpx.get(f"{stack.url('intake')}/v1/exports/contributions.csv",
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    external_ids = {row["external_id"] for row in rows}
    assert "'=HYPERLINK(\"http://x\",\"clic\")" in external_ids and "'@SUM(1+1)" in external_ids
    assert not any(value.lstrip(" ").startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    assert all(row["external_id"] not in ("own-b",) for row in rows)  # only this territory's rows


async def test_closing_a_consultation_emits_the_event_and_refuses_contributions(intake_stack):
    stack = intake_stack
    key = stack.create_territory("edge-close")
    base = stack.url("intake")
    opened = httpx.post(f"{base}/v1/consultations", headers=stack.admin_headers, json={
        "id": "edge-close-atelier", "territory": "edge-close", "title": "Atelier", "framework": "concertations-ia"})
    assert opened.status_code == 201
    early = post(stack, key, {"external_id": "early", "body": "Avant la clôture.", "consultation": "edge-close-atelier"})
    assert early.status_code == 202  # intake now holds the territory's consultations as they were
    closed = httpx.post(f"{base}/v1/consultations/edge-close-atelier/close", headers=stack.admin_headers)
    assert closed.status_code == 200 and closed.json()["territory"] == "edge-close"
    twice = httpx.post(f"{base}/v1/consultations/edge-close-atelier/close", headers=stack.admin_headers)
    assert twice.status_code == 409 and twice.headers["content-type"] == PROBLEM
    late = post(stack, key, {"external_id": "late", "body": "Trop tard.", "consultation": "edge-close-atelier"})
    assert late.status_code == 422 and "closed" in late.json()["detail"]
    still_open = post(stack, key, {"external_id": "on-time", "body": "Dans la consultation ouverte."})
    assert still_open.status_code == 202

    nc = await stack.nats_connect()
    js = nc.jetstream()

    async def closed_event():
        try:
            message = await js.get_last_msg("PALABRE_EVENTS", "palabre.consultation.closed.fr.edge-close")
        except Exception:  # noqa: BLE001 - not relayed yet
            return None
        return message

    message = await async_wait_for(closed_event, what="palabre.consultation.closed.v1 on the bus")
    import json

    event = json.loads(message.data)
    assert event["type"] == "palabre.consultation.closed.v1"
    assert event["data"]["consultation"] == "edge-close-atelier" and event["data"]["country"] == "FR"
    registered = json.loads((await js.get_last_msg("PALABRE_EVENTS",
                                                   "palabre.territory.registered.fr.edge-close")).data)
    assert registered["data"]["timezone"] == "Europe/Paris" and registered["data"]["languages"] == ["fr"]
    await nc.close()


def test_a_territory_above_its_rate_limit_gets_429_with_retry_after(intake_stack):
    """A second intake replica configured with a low limit (the default is generous)."""
    stack = intake_stack
    key = stack.create_territory("edge-rate")
    other = stack.create_territory("edge-rate-other")
    replica = ServiceProcess("intake", free_port(), stack.env(PALABRE_INTAKE_RATE_PER_S="0.5",
                                                              PALABRE_INTAKE_RATE_BURST="3"),
                             stack.root / "logs" / "intake-limited.log").start()
    try:
        replica.wait_ready()
        url = f"{replica.base_url}/v1/contributions"
        statuses = [httpx.post(url, json={"external_id": f"r-{i}", "body": "Un texte."},
                               headers={"Authorization": f"Bearer {key}"}, timeout=30) for i in range(5)]
        assert [r.status_code for r in statuses[:3]] == [202, 202, 202]
        limited = statuses[3]
        assert limited.status_code == 429 and limited.headers["content-type"] == PROBLEM
        assert int(limited.headers["retry-after"]) >= 1
        unaffected = httpx.post(url, json={"external_id": "o-1", "body": "Un texte."},
                                headers={"Authorization": f"Bearer {other}"}, timeout=30)
        assert unaffected.status_code == 202
    finally:
        replica.stop()


def test_a_service_that_cannot_start_says_why(intake_stack):
    """Its port is taken: the error names the exit and carries the end of the service's log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        blocked = ServiceProcess("intake", taken.getsockname()[1], intake_stack.env(),
                                 intake_stack.root / "logs" / "intake-blocked.log").start()
        try:
            with pytest.raises(RuntimeError, match=r"(?s)intake exited with 3.*address already in use"):
                blocked.wait_ready()
        finally:
            blocked.stop()


async def test_concurrent_requests_are_each_answered_for_their_own_contributions(intake_stack):
    """Many single-contribution requests at once (written together by intake): each is accepted once,
    a contribution sent twice at the same moment is accepted by one request and a duplicate for the other,
    and exactly one `contribution.submitted` event is queued for each."""
    import asyncio

    stack = intake_stack
    key = stack.create_territory("edge-concurrent")
    external_ids = [f"c-{n}" for n in range(60)] + [f"c-{n}" for n in range(0, 60, 3)]  # 20 sent twice

    async def send(client: httpx.AsyncClient, external_id: str) -> dict:
        response = await client.post(f"{stack.url('intake')}/v1/contributions", headers={
            "Authorization": f"Bearer {key}"}, json={"external_id": external_id, "body": f"Proposition {external_id}."})
        assert response.status_code == 202, response.text
        return response.json()

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=40)) as client:
        answers = await asyncio.gather(*(send(client, external_id) for external_id in external_ids))
    accepted: dict[str, list[str]] = {}
    duplicates: dict[str, list[str]] = {}
    for answer in answers:
        for entry in answer["accepted"]:
            accepted.setdefault(entry["external_id"], []).append(entry["id"])
        for entry in answer["duplicates"]:
            duplicates.setdefault(entry["external_id"], []).append(entry["id"])
    assert sorted(accepted) == sorted(set(external_ids)) and all(len(ids) == 1 for ids in accepted.values())
    assert sorted(duplicates) == sorted(f"c-{n}" for n in range(0, 60, 3))
    assert all(duplicates[e] == accepted[e] for e in duplicates)  # the same contribution, answered as such
    rows = await stack.sql("SELECT count(*) AS n FROM intake.contributions WHERE territory = $1", "edge-concurrent")
    assert rows[0]["n"] == 60
    nc = await stack.nats_connect()
    js = nc.jetstream()

    async def submitted_events():
        info = await js.stream_info("PALABRE_EVENTS", subjects_filter="palabre.contribution.submitted.*.edge-concurrent")
        count = sum((info.state.subjects or {}).values())
        return count if count >= 60 else None

    try:
        assert await async_wait_for(submitted_events, what="60 contribution.submitted events") == 60
    finally:
        await nc.close()
