"""A decision holds everywhere (DESIGN §5), across the four services on the real bus and database: a
published contribution rejected later, one redacted later, and one erased at its author's request
(GDPR Art. 17) leave every public surface, and each subscription that received them is told with a signed
`contribution.withdrawn` (or `contribution.updated`, new text only). The erased text leaves every table of
every service. How long each surface took is printed (run with -s), never asserted."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.harness import MODERATOR_PASSWORD, async_wait_for, create_moderator, wait_for
from shared.events import ContributionSubmitted, ContributionWithdrawn
from tests.integration.notifications.support import Receiver, create_partner, partner_post, publish, subscribe, verify

SCHEMAS = ("intake", "moderation", "synthesis", "notifications")
SENTENCES = [
    "Mesurer la consommation d'électricité des serveurs de la métropole",
    "Publier chaque année le bilan énergétique des outils numériques",
    "Préférer des modèles petits et sobres pour limiter l'empreinte carbone",
    "Refroidir les centres de données sans gaspiller l'eau potable",
    "Réutiliser la chaleur des serveurs pour chauffer les piscines",
    "Limiter le renouvellement du matériel informatique des services",
    "Compter l'énergie dépensée par chaque requête aux assistants",
]


def marker() -> str:
    """A word found nowhere else, to look for the text on every surface: letters only, since a run of digits
    in it may read as a phone number and be masked ("ecomarq3f06281647")."""
    return "ecomarq" + uuid.uuid4().hex[:10].translate(_DIGITS_AS_LETTERS)


_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def surfaces(stack, territory: str) -> dict:
    """name → probe(client, contribution_id, word) -> whether the surface still shows the word."""
    notifications, synthesis = stack.url("notifications"), stack.url("synthesis")

    async def shows(client: httpx.AsyncClient, url: str, word: str) -> bool:
        response = await client.get(url)
        return response.status_code == 200 and word in response.text

    async def item(client, contribution_id, word):
        response = await client.get(f"{notifications}/v1/items/{contribution_id}")
        assert response.status_code in (200, 410), response.text
        return response.status_code == 200 and word in response.text

    async def replayable(client, contribution_id, word):
        rows = await stack.sql("SELECT count(*) AS n FROM notifications.public_events "
                               "WHERE position(convert_to($1, 'UTF8') in payload) > 0", word)
        return rows[0]["n"] > 0

    async def counted(client, contribution_id, word):
        return (await client.get(f"{synthesis}/v1/contributions/{contribution_id}")).status_code == 200

    def page(url: str):
        return lambda client, contribution_id, word: shows(client, url, word)

    return {
        "feed JSON": page(f"{notifications}/feeds/territories/{territory}.json?limit=200"),
        "feed Atom": page(f"{notifications}/feeds/territories/{territory}.atom?limit=200"),
        "network feed": page(f"{notifications}/feeds/network.json?limit=200"),
        "item": item,
        "open data CSV": page(f"{notifications}/v1/open-data/territories/{territory}/contributions.csv"),
        "open data JSON": page(f"{notifications}/v1/open-data/territories/{territory}/contributions.json"),
        "replayable events": replayable,
        "synthesis count": counted,
        "synthesis quotes": page(f"{synthesis}/v1/syntheses/territories/{territory}"),
        "synthesis export": page(f"{synthesis}/v1/syntheses/territories/{territory}/export.md"),
        "manifesto": page(f"{synthesis}/v1/manifesto.md"),
    }


async def tables_holding(stack, word: str) -> list[str]:
    """Every table of the four services' schemas with a text, JSON or bytes column holding `word`."""
    columns = await stack.sql(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ANY($1::text[]) AND data_type IN ('text', 'jsonb', 'json', 'bytea', 'character varying')",
        list(SCHEMAS))
    by_table: dict[str, list[str]] = {}
    for c in columns:
        test = (f"position(convert_to($1, 'UTF8') in \"{c['column_name']}\") > 0" if c["data_type"] == "bytea"
                else f"\"{c['column_name']}\"::text LIKE '%' || $1 || '%'")
        by_table.setdefault(f"{c['table_schema']}.\"{c['table_name']}\"", []).append(test)
    found = []
    for table, tests in by_table.items():
        rows = await stack.sql(f"SELECT count(*) AS n FROM {table} WHERE {' OR '.join(tests)}", word)  # nosec B608
        if rows[0]["n"]:
            found.append(table)
    return found


@pytest.mark.timeout(900)
async def test_withdrawal_reaches_every_surface_and_every_partner(stack, receiver):
    territory = f"wd-{uuid.uuid4().hex[:8]}"
    key = stack.create_territory(territory, "FR")
    partner_key = create_partner(stack, f"partner-{territory}")
    subscription = subscribe(stack, partner_key, receiver.url + "/hook", territories=[territory])
    moderator = httpx.BasicAuth(create_moderator(stack, f"net-{territory}"), MODERATOR_PASSWORD)

    words = [marker() for _ in range(14)]
    bodies = [f"{SENTENCES[i % len(SENTENCES)]}, selon la proposition {word} de l'atelier {i}."
              for i, word in enumerate(words)]
    accepted = stack.submit(key, {"contributions": [
        {"external_id": f"wd-{i}", "kind": "proposition", "axis": "sobriete", "body": body}
        for i, body in enumerate(bodies)]}).json()["accepted"]
    ids = [a["id"] for a in accepted]
    statuses = stack.wait_final(key, ids, timeout=120)
    ids = [i for i in ids if statuses[i]["status"] == "published"]  # a flag may hold one: it is not needed
    assert len(ids) >= 10, {i: s["status"] for i, s in statuses.items()}
    # what is looked for: a stretch of each text (single words may stay as sub-theme keywords or distinctive
    # terms of the versions computed before, which are words of many texts, not the text)
    word_of = {a["id"]: f"selon la proposition {word} de l'atelier" for a, word in zip(accepted, words, strict=True)}
    asked = httpx.post(f"{stack.url('synthesis')}/v1/syntheses/recompute", headers=stack.admin_headers, timeout=30)
    assert asked.status_code == 202, asked.text

    synthesis_url = f"{stack.url('synthesis')}/v1/syntheses/territories/{territory}"
    document = wait_for(lambda: (d := httpx.get(synthesis_url, timeout=30).json())["computed_contributions_count"]
                        == len(ids) and d, 300, what="the territory's synthesis computed", interval=0.5)
    quoted = {q["contribution_id"] for a in document["axes"] for s in a["subthemes"] for q in s["quotes"]}
    quoted |= {p["representative"]["contribution_id"] for p in document["proposals"]}
    targets = [i for i in ids if i in quoted][:3]
    assert len(targets) == 3, f"only {len(quoted)} of the contributions are quoted"
    rejected, redacted, erased = targets
    paths = {"rejection": rejected, "redaction": redacted, "erasure": erased}

    probes = surfaces(stack, territory)
    async with httpx.AsyncClient(timeout=30) as client:
        await async_wait_for(lambda: all_delivered(receiver, targets), 60, what="the publications delivered")
        before = {t: {name for name, probe in probes.items() if await probe(client, t, word_of[t])} for t in targets}
    for target in targets:
        assert {"feed JSON", "feed Atom", "item", "open data CSV", "open data JSON", "replayable events",
                "synthesis count", "synthesis quotes"} <= before[target], before[target]

    before[redacted].discard("synthesis count")  # a redacted contribution stays counted, with its new text
    started = time.monotonic()
    position = [a["id"] for a in accepted].index(redacted)
    redacted_body = bodies[position].replace(words[position], "[retiré]")
    responses = [
        httpx.post(f"{stack.url('moderation')}/v1/contributions/{rejected}/decision", auth=moderator, timeout=60,
                   json={"outcome": "rejected", "grounds": ["defamation"], "facts": "Recours accueilli."}),
        httpx.post(f"{stack.url('moderation')}/v1/contributions/{redacted}/decision", auth=moderator, timeout=60,
                   json={"outcome": "published-redacted", "redacted_body": redacted_body}),
        httpx.post(f"{stack.url('intake')}/v1/contributions/{erased}/erasure", headers=stack.admin_headers,
                   timeout=60),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]

    cleared: dict[tuple[str, str], float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        async def all_cleared():
            for target in targets:
                for name in before[target]:
                    if (target, name) not in cleared and not await probes[name](client, target, word_of[target]):
                        cleared[(target, name)] = time.monotonic() - started
            return len(cleared) == sum(len(names) for names in before.values())
        deadline = time.monotonic() + 180
        while not await all_cleared():
            left = sorted({(name, path) for path, target in paths.items() for name in before[target]
                           if (target, name) not in cleared})
            assert time.monotonic() < deadline, f"surfaces still showing an old text: {left}"
            await asyncio.sleep(0.2)

    async def no_table_holds_it():
        return not await tables_holding(stack, word_of[erased])

    await async_wait_for(no_table_holds_it, 300, what="the erased text out of every table", interval=0.5)
    tables_s = time.monotonic() - started
    await async_wait_for(lambda: all_told(receiver, rejected, erased, redacted), 60, what="partners told")
    told_s = time.monotonic() - started

    for path, target in paths.items():
        print(f"\n{path}: " + ", ".join(f"{name} {cleared[(target, name)]:.2f} s" for name in sorted(before[target])))
    print(f"erasure: out of every table of {', '.join(SCHEMAS)} within {tables_s:.2f} s; "
          f"partners told within {told_s:.2f} s")

    # the partner: signed deliveries, a withdrawal with ids and no text, an update with the new text only
    secret = subscription["secret"]
    by_type = {}
    for request in receiver.accepted("/hook"):
        event = verify(request, secret)
        by_type.setdefault((event["type"], event["data"].get("contribution_id")), []).append(event)
    for target, reason in ((rejected, "rejected"), (erased, "erased")):
        [withdrawn] = by_type[("palabre.contribution.withdrawn.v1", target)]
        assert withdrawn["data"]["reason"] == reason and withdrawn["data"]["territory"] == territory
        assert withdrawn["data"]["decision_id"] and withdrawn["data"]["withdrawn_at"]
        assert "text" not in withdrawn["data"] and word_of[target] not in str(withdrawn)
    [updated] = by_type[("palabre.contribution.updated.v1", redacted)]
    assert updated["data"]["text"] == redacted_body and word_of[redacted] not in str(updated)

    # a replay of everything sends none of the old texts again
    replay = partner_post(stack, partner_key, f"/v1/subscriptions/{subscription['id']}/replay",
                          {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
    assert replay.status_code == 202, replay.text
    seen = len(receiver.accepted("/hook"))
    await async_wait_for(lambda: delivered_more(receiver, seen), 60, what="the replay delivered")
    await asyncio.sleep(2)
    replayed = " ".join(r["body"] for r in receiver.accepted("/hook")[seen:])
    assert all(word_of[t] not in replayed for t in targets)
    assert any(word_of[i] in replayed for i in ids if i not in targets)  # the others are replayed

    # what is left: the decision trail without the text, the items gone, the redacted text in their place
    status = stack.status(key, erased)
    assert status["status"] == "erased" and "published_text" not in status and status["decision"]["outcome"]
    for target in (rejected, erased):
        gone = httpx.get(f"{stack.url('notifications')}/v1/items/{target}", timeout=30)
        assert gone.status_code == 410 and gone.headers["content-type"].startswith("application/problem+json")
    shown = httpx.get(f"{stack.url('notifications')}/v1/items/{redacted}", timeout=30).json()
    assert shown["text"] == redacted_body
    assert httpx.get(f"{stack.url('synthesis')}/v1/contributions/{redacted}", timeout=30).status_code == 200
    record = httpx.get(f"{stack.url('moderation')}/v1/contributions/{erased}", auth=moderator, timeout=30).json()
    assert [d["outcome"] for d in record["decisions"]] == ["published"]
    again = httpx.post(f"{stack.url('moderation')}/v1/contributions/{erased}/decision", auth=moderator,
                       timeout=60, json={"outcome": "published"})
    assert again.status_code == 410, again.text


async def all_delivered(receiver, targets) -> bool:
    events = [e for e in receiver.accepted_events("/hook") if e["type"] == "palabre.contribution.published.v1"]
    return {e["data"]["contribution_id"] for e in events} >= set(targets)


async def all_told(receiver, rejected, erased, redacted) -> bool:
    told = {(e["type"], e["data"].get("contribution_id")) for e in receiver.accepted_events("/hook")}
    return {("palabre.contribution.withdrawn.v1", rejected), ("palabre.contribution.withdrawn.v1", erased),
            ("palabre.contribution.updated.v1", redacted)} <= told


async def delivered_more(receiver, seen: int) -> bool:
    return len(receiver.accepted("/hook")) > seen


def test_erasure_needs_the_admin_key_and_a_known_contribution(stack):
    url = f"{stack.url('intake')}/v1/contributions/{uuid.uuid4()}/erasure"
    assert httpx.post(url, timeout=30).status_code == 401
    unknown = httpx.post(url, headers=stack.admin_headers, timeout=30)
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    malformed = httpx.post(f"{stack.url('intake')}/v1/contributions/not-an-id/erasure", headers=stack.admin_headers,
                           timeout=30)
    assert malformed.status_code == 404


async def test_an_erasure_that_arrives_before_the_submission_keeps_it_from_being_moderated(stack):
    territory = f"wd-early-{uuid.uuid4().hex[:6]}"
    stack.create_territory(territory, "FR")
    contribution_id, now = str(uuid.uuid4()), datetime.now(UTC)
    common = {"territory": territory, "country": "FR", "contribution_id": contribution_id, "external_id": "early-1"}

    async def moderation_took(event_ids):
        rows = await stack.sql("SELECT count(*) AS n FROM moderation.processed_events WHERE event_id = ANY($1::text[])",
                               event_ids)
        return rows[0]["n"] == len(event_ids)

    erasure = await publish(stack, ContributionWithdrawn(**common, decision_id=str(uuid.uuid4()), withdrawn_at=now,
                                                         reason="erased"))
    await async_wait_for(lambda: moderation_took(erasure), 60, what="moderation to take the erasure")
    submission = await publish(stack, ContributionSubmitted(
        **common, consultation=f"{territory}-concertation-ia", submitted_at=now - timedelta(minutes=1),
        body="Un texte effacé avant d'être modéré, qui ne doit paraître nulle part."))
    await async_wait_for(lambda: moderation_took(submission), 60, what="moderation to take the submission")
    assert await stack.sql("SELECT id FROM moderation.contributions WHERE id = $1", uuid.UUID(contribution_id)) == []
    assert await stack.sql("SELECT id FROM moderation.decisions WHERE contribution_id = $1",
                           uuid.UUID(contribution_id)) == []
